import { env } from 'cloudflare:workers'
import { describe, expect, inject, it } from 'vitest'
import { sha256Hex } from '../src/lib/hash'
import { blobCache, keys, manifestCache } from '../src/site/manifest'
import { publish } from './helpers'

const text = (b: ArrayBuffer | undefined) => (b ? new TextDecoder().decode(b) : undefined)

describe("the isolate's memory in front of KV", () => {
  it('keeps hot blobs within its byte budget, evicting the least recently used', async () => {
    const bodies = ['a'.repeat(100), 'b'.repeat(100), 'c'.repeat(100)]
    const hashes = await Promise.all(bodies.map(sha256Hex))
    await Promise.all(hashes.map((h, i) => env.CONTENT.put(keys.blob(h), bodies[i] ?? '')))
    const getBlob = blobCache(250)
    for (const h of hashes) await getBlob(env.CONTENT, h)
    await Promise.all(hashes.map((h) => env.CONTENT.delete(keys.blob(h))))
    // The first was evicted to stay under 250 bytes, so it is gone with KV; the last two are served from memory.
    expect(text(await getBlob(env.CONTENT, hashes[0] ?? ''))).toBeUndefined()
    expect(text(await getBlob(env.CONTENT, hashes[2] ?? ''))).toBe(bodies[2])
    expect(text(await getBlob(env.CONTENT, hashes[1] ?? ''))).toBe(bodies[1])
  })

  it('reads a blob from KV once, however many requests miss it at the same moment', async () => {
    const bodies = ['x'.repeat(100), 'y'.repeat(100)]
    const hashes = await Promise.all(bodies.map(sha256Hex))
    await Promise.all(hashes.map((h, i) => env.CONTENT.put(keys.blob(h), bodies[i] ?? '')))
    let reads = 0
    const counted = new Proxy(env.CONTENT, {
      get: (target, prop) =>
        prop === 'get'
          ? (key: string, options: { type: 'arrayBuffer'; cacheTtl?: number }) => {
              reads += 1
              return target.get(key, options)
            }
          : Reflect.get(target, prop),
    })
    const getBlob = blobCache(1024)
    await Promise.all(Array.from({ length: 20 }, () => getBlob(counted, hashes[0] ?? '')))
    for (let i = 0; i < 10; i++) await getBlob(counted, hashes[i % 2] ?? '')
    expect(reads).toBe(2)
  })

  it('rereads the manifest once its time in the isolate is up', async () => {
    let now = 0
    const getManifest = manifestCache(5_000, () => now)
    const first = await publish(inject('siteBuild'))
    expect((await getManifest(env.CONTENT))?.id).toBe(first.manifestId)
    const second = await publish(inject('secondEssayBuild'))
    now = 4_999
    expect((await getManifest(env.CONTENT))?.id).toBe(first.manifestId)
    now = 5_000
    expect((await getManifest(env.CONTENT))?.id).toBe(second.manifestId)
  })
})
