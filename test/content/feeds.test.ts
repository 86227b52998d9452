import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseFeed } from '@rowanmanning/feed-parser'
import { beforeAll, describe, expect, it } from 'vitest'
import { validateXML } from 'xmllint-wasm'
import { buildSite } from '../../scripts/site-build'
import type { SiteBuild } from '../../src/site/publish'

const root = fileURLToPath(new URL('../..', import.meta.url))
let build: SiteBuild
const body = (path: string) => build.files.find((f) => f.path === path)?.body ?? ''

beforeAll(async () => {
  build = (await buildSite(join(root, 'content'))).build
})

describe('the Atom feed, read by a feed reader', () => {
  it('has the essay with its title, address, id and full text', () => {
    const feed = parseFeed(body('/feed.xml'))
    expect(feed.meta.type).toBe('atom')
    expect(feed.title).toBe('Spine Health Library')
    const [essay, ...others] = feed.items
    expect(others).toEqual([])
    expect(essay?.title).toBe('Spine Exercises and Back Pain')
    expect(essay?.url).toBe('https://spine-exercises.example.com/back-pain/back-exercises/spine-exercises')
    expect(essay?.id).toBe('https://spine-exercises.example.com/back-pain/back-exercises/spine-exercises')
    expect(essay?.content).toContain('What are Spine Exercises?')
  })
})

describe('sitemap.xml', () => {
  it('is valid against the sitemaps.org 0.9 schema (xmllint)', async () => {
    const schema = await readFile(join(root, 'test/fixtures/schemas/sitemap.xsd'), 'utf8')
    const result = await validateXML({
      xml: [{ fileName: 'sitemap.xml', contents: body('/sitemap.xml') }],
      schema: [schema],
    })
    expect(result.errors).toEqual([])
    expect(result.valid).toBe(true)
  })

  it('would be refused by the schema if it were broken', async () => {
    const schema = await readFile(join(root, 'test/fixtures/schemas/sitemap.xsd'), 'utf8')
    const broken = body('/sitemap.xml').replace('<lastmod>', '<lastmod>not a date')
    expect((await validateXML({ xml: [{ fileName: 'sitemap.xml', contents: broken }], schema: [schema] })).valid).toBe(
      false,
    )
  })
})
