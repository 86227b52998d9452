/**
 * `npm run publish [-- --remote] [-- --rollback]`: builds content/ and publishes it to the CONTENT
 * KV namespace, local (the same store `npm start` serves) by default, Cloudflare's with --remote.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { getPlatformProxy } from 'wrangler'
import { type ContentStore, kvStore, type PublishReport, publishSite, rollbackSite } from '../src/site/publish'
import { buildToDist } from './site-build'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))

/** Wrangler must not reach the network for local work. */
export const offlineEnv = { CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' }

/** The remote namespace through wrangler's CLI, so that its login or CLOUDFLARE_API_TOKEN applies. */
function remoteStore(): ContentStore {
  const wrangler = (args: string[]) =>
    run('npx', ['wrangler', 'kv', ...args, '--binding', 'CONTENT', '--remote'], {
      cwd: root,
      maxBuffer: 64 << 20,
      shell: process.platform === 'win32',
    })
  return {
    async get(key) {
      try {
        const { stdout } = await wrangler(['key', 'get', key, '--text'])
        return stdout.trim() === 'Value not found' ? null : stdout
      } catch (err) {
        // Only a missing key is "nothing there"; any other failure must stop the publish, or the
        // new manifest would lose its link to the one it replaces (and with it, rollback).
        if (/not found/i.test(String((err as { stderr?: string }).stderr ?? ''))) return null
        throw err
      }
    },
    async listKeys(prefix) {
      const { stdout } = await wrangler(['key', 'list', '--prefix', prefix])
      return (JSON.parse(stdout) as { name: string }[]).map((k) => k.name)
    },
    async putMany(entries) {
      const dir = await mkdtemp(join(tmpdir(), 'publish-'))
      try {
        const file = join(dir, 'bulk.json')
        // The entries are already in the bulk file's format: images carry `base64: true`.
        await writeFile(file, JSON.stringify(entries))
        await wrangler(['bulk', 'put', file])
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    },
  }
}

/** Opens the chosen store; `close` releases the local runtime. */
export async function openStore(remote: boolean): Promise<{ store: ContentStore; close: () => Promise<void> }> {
  if (remote) return { store: remoteStore(), close: async () => {} }
  Object.assign(process.env, offlineEnv)
  const proxy = await getPlatformProxy<Env>({ configPath: join(root, 'wrangler.toml'), remoteBindings: false })
  return { store: kvStore(proxy.env.CONTENT), close: proxy.dispose }
}

const describe = (r: PublishReport) =>
  [
    `uploaded ${r.uploaded.length} blob(s)${r.uploaded.length ? `: ${r.uploaded.map((h) => h.slice(0, 12)).join(', ')}` : ''}`,
    `skipped ${r.skipped.length} unchanged blob(s)`,
    r.switched
      ? `manifest ${r.manifestId.slice(0, 12)} is live`
      : `manifest ${r.manifestId.slice(0, 12)} was already live`,
  ].join('\n')

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const remote = process.argv.includes('--remote')
  const target = remote ? 'Cloudflare (remote)' : 'local KV (.wrangler/state)'
  const { store, close } = await openStore(remote)
  try {
    if (process.argv.includes('--rollback')) {
      const restored = await rollbackSite(store)
      if (!restored) {
        console.error(`nothing to roll back to on ${target}`)
        process.exitCode = 1
      } else
        console.log(`rolled back ${target} to manifest ${restored.id.slice(0, 12)} (published ${restored.publishedAt})`)
    } else {
      const { build } = await buildToDist()
      console.log(`publishing ${build.files.length + 1} files to ${target}`)
      console.log(describe(await publishSite(store, build, new Date())))
    }
  } finally {
    await close()
  }
}
