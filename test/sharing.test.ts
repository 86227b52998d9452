import { beforeAll, describe, expect, inject, it } from 'vitest'
import { attrsOf, get, publish } from './helpers'

const ESSAY = '/back-pain/back-exercises/spine-exercises'
const SECTION = '/back-pain'
const SITE = 'https://spine-exercises.example.com'

beforeAll(async () => {
  await publish(inject('siteBuild'))
})

/** A PNG's width and height, as its IHDR chunk (right after the 8-byte signature) states them. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
  expect([...bytes.subarray(0, 8)], 'PNG signature').toEqual(signature)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  expect(new TextDecoder().decode(bytes.subarray(12, 16))).toBe('IHDR')
  return { width: view.getUint32(16), height: view.getUint32(20) }
}

/** What a link preview (Open Graph, X's card) reads from a page's head. */
async function previewOf(path: string) {
  const html = await (await get(path)).text()
  const og = async (property: string) => attrsOf(html, `meta[property="${property}"]`, 'content')
  const tw = async (name: string) => attrsOf(html, `meta[name="${name}"]`, 'content')
  return {
    image: await og('og:image'),
    width: await og('og:image:width'),
    height: await og('og:image:height'),
    type: await og('og:image:type'),
    alt: await og('og:image:alt'),
    card: await tw('twitter:card'),
    twitterImage: await tw('twitter:image'),
  }
}

/** Fetches an absolute URL of the site from the Worker, by its path. */
const fetchSiteUrl = (url: string) => get(new URL(url).pathname)

describe('a reader sharing a page', () => {
  for (const [what, path, title] of [
    ['the essay', ESSAY, 'Spine Exercises and Back Pain'],
    ['a section page', SECTION, 'Back Pain'],
  ] as const)
    it(`gets a large preview of ${what}: a 1200x630 PNG of its own, on the site, with its size and alt text`, async () => {
      const p = await previewOf(path)
      expect(p.image).toHaveLength(1)
      const url = p.image[0] ?? ''
      expect(url.startsWith(`${SITE}/`), url).toBe(true)
      expect(p.width).toEqual(['1200'])
      expect(p.height).toEqual(['630'])
      expect(p.type).toEqual(['image/png'])
      expect(p.alt[0]).toContain(title)
      expect(p.card).toEqual(['summary_large_image'])
      expect(p.twitterImage).toEqual([url])
      const res = await fetchSiteUrl(url)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('image/png')
      expect(pngSize(new Uint8Array(await res.arrayBuffer()))).toEqual({ width: 1200, height: 630 })
    })

  it('shows each page with its own title: the essay and the section do not share one image', async () => {
    const [essay, section] = await Promise.all([previewOf(ESSAY), previewOf(SECTION)])
    expect(essay.image[0]).not.toBe(section.image[0])
    const bytes = async (url: string) => new Uint8Array(await (await fetchSiteUrl(url)).arrayBuffer())
    expect(await bytes(essay.image[0] ?? '')).not.toEqual(await bytes(section.image[0] ?? ''))
  })

  it('keeps the small card on pages the Worker renders per request, which have no image', async () => {
    const p = await previewOf('/search?q=spine')
    expect(p.image).toEqual([])
    expect(p.card).toEqual(['summary'])
  })
})

describe('a browser or phone asking for the site icon', () => {
  it('gets /favicon.ico as an icon file holding the icon at 16, 32 and 48 px', async () => {
    const res = await get('/favicon.ico')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/x-icon')
    const ico = new Uint8Array(await res.arrayBuffer())
    const view = new DataView(ico.buffer)
    expect([view.getUint16(0, true), view.getUint16(2, true)], 'ICO header: reserved, type icon').toEqual([0, 1])
    const count = view.getUint16(4, true)
    const sizes = []
    for (let i = 0; i < count; i++) {
      const entry = 6 + 16 * i
      const [length, offset] = [view.getUint32(entry + 8, true), view.getUint32(entry + 12, true)]
      const image = pngSize(ico.subarray(offset, offset + length))
      expect(image.width, 'the directory and the image agree').toBe(view.getUint8(entry))
      sizes.push(image.width)
    }
    expect(sizes).toEqual([16, 32, 48])
  })

  it('gets the 180x180 apple-touch-icon that every page links to', async () => {
    for (const path of [ESSAY, '/', '/search?q=spine'])
      expect(await attrsOf(await (await get(path)).text(), 'link[rel="apple-touch-icon"]', 'href')).toEqual([
        '/apple-touch-icon.png',
      ])
    const res = await get('/apple-touch-icon.png')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/png')
    expect(pngSize(new Uint8Array(await res.arrayBuffer()))).toEqual({ width: 180, height: 180 })
  })
})
