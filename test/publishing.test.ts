import { reset } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { keys } from '../src/site/manifest'
import { kvStore, publishSite, rollbackSite, type SiteBuild } from '../src/site/publish'
import { attrsOf, get, publish, textsOf } from './helpers'

const ESSAY = '/back-pain/back-exercises/spine-exercises'

/** The real build with the essay's first paragraph rewritten: a new version of one page. */
function editedBuild(): SiteBuild {
  const build = structuredClone(inject('siteBuild'))
  const essay = build.files.find((f) => f.path === ESSAY)
  if (!essay) throw new Error('the essay is missing from the build')
  essay.body = essay.body.replace('Patients always write to us', 'Readers always write to us')
  return build
}

const firstParagraph = async () => (await textsOf(await (await get(ESSAY)).text(), '.prose p'))[0]

afterEach(() => reset())

describe('publishing the site', () => {
  it('uploads every blob the first time and nothing the second time', async () => {
    const build = inject('siteBuild')
    // Pages, the 404 page, and each email's, lesson's and newsletter letter's HTML and text parts, each body stored once.
    const emails = [
      ...Object.values(build.emails),
      ...Object.values(build.courses).flatMap((c) => c.lessons),
      ...Object.values(build.broadcasts),
    ]
    const bodies = [...build.files, build.notFound].map((f) => f.body).concat(emails.flatMap((e) => [e.html, e.text]))
    const blobs = new Set(bodies).size
    const first = await publish(build)
    expect(first.uploaded).toHaveLength(blobs)
    expect(first.switched).toBe(true)
    const second = await publish(build, new Date('2026-11-26T12:00:00Z'))
    expect(second.uploaded).toEqual([])
    expect(second.skipped).toHaveLength(blobs)
    expect(second.switched).toBe(false)
    expect(second.manifestId).toBe(first.manifestId)
  })

  it('uploads only the page that changed, and readers see the new version at once', async () => {
    await publish(inject('siteBuild'))
    expect(await firstParagraph()).toMatch(/^Patients always write to us/)
    const report = await publish(editedBuild())
    expect(report.uploaded).toHaveLength(1)
    expect(await firstParagraph()).toMatch(/^Readers always write to us/)
  })

  it('rolls back to the previous version in one step, and says so when there is none', async () => {
    expect(await rollbackSite(kvStore(env.CONTENT))).toBeUndefined()
    const original = await publish(inject('siteBuild'))
    expect(await rollbackSite(kvStore(env.CONTENT))).toBeUndefined()
    await publish(editedBuild())
    const restored = await rollbackSite(kvStore(env.CONTENT))
    expect(restored?.id).toBe(original.manifestId)
    expect(await firstParagraph()).toMatch(/^Patients always write to us/)
    expect((await get(ESSAY)).headers.get('etag')).toBe(`"${restored?.routes[ESSAY]?.hash}"`)
  })

  it('never shows a half-published version: the blobs are stored before the manifest names them', async () => {
    const order: string[] = []
    const store = kvStore(env.CONTENT)
    const recording = {
      ...store,
      putMany: (entries: { key: string; value: string }[]) => {
        order.push(...entries.map((x) => x.key))
        return store.putMany(entries)
      },
    }
    await publishSite(recording, inject('siteBuild'), new Date())
    // Every blob first, then the archived copy, and the live manifest last of all.
    expect(order.at(-1)).toBe(keys.manifest)
    expect(order.at(-2)).toMatch(/^v1:manifest:/)
    expect(order.slice(0, -2).every((k) => k.startsWith(keys.blobPrefix))).toBe(true)
    const manifest = await env.CONTENT.get<{ routes: Record<string, { hash: string }> }>(keys.manifest, 'json')
    for (const { hash } of Object.values(manifest?.routes ?? {})) {
      expect(await env.CONTENT.get(keys.blob(hash))).not.toBeNull()
    }
  })
})

describe('a second essay added to the content tree', () => {
  const SECOND = '/back-pain/posture/sitting-all-day'

  it('gets a page with its breadcrumb and contents, with no code change', async () => {
    await publish(inject('secondEssayBuild'))
    const html = await (await get(SECOND)).text()
    expect(await textsOf(html, 'h1')).toEqual(['Sitting All Day'])
    expect(await textsOf(html, 'nav.crumbs li')).toEqual(['Back Pain', 'Posture', 'Sitting'])
    expect(await textsOf(html, 'nav.toc a')).toEqual(['Does sitting cause back pain?', 'What helps'])
  })

  it('is listed by its section, its parent section and the home page', async () => {
    await publish(inject('secondEssayBuild'))
    expect(await attrsOf(await (await get('/back-pain/posture')).text(), '.cards a', 'href')).toEqual([SECOND])
    expect(await attrsOf(await (await get('/back-pain')).text(), '.cards a', 'href')).toEqual([
      '/back-pain/back-exercises',
      '/back-pain/posture',
    ])
    // Newest first: the fixture essay is dated after the spine essay.
    expect(await attrsOf(await (await get('/')).text(), 'main .cards a', 'href')).toEqual(['/back-pain', SECOND, ESSAY])
  })

  it('appears in the feed and the sitemap', async () => {
    await publish(inject('secondEssayBuild'))
    const feed = await (await get('/feed.xml')).text()
    expect(feed).toContain(`<id>https://spine-exercises.example.com${SECOND}</id>`)
    const sitemap = await (await get('/sitemap.xml')).text()
    expect(sitemap).toContain(`<loc>https://spine-exercises.example.com${SECOND}</loc>`)
    expect(sitemap).toContain('<loc>https://spine-exercises.example.com/back-pain/posture</loc>')
  })
})
