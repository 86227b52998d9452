/** Search across the essays, as a reader meets it: the box in the header, and /search. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { attrsOf, get, publish, textsOf } from './helpers'

const hitsOf = async (q: string) => {
  const res = await get(`/search?q=${encodeURIComponent(q)}`)
  expect(res.status).toBe(200)
  const html = await res.text()
  return {
    html,
    titles: await textsOf(html, 'ol.search-results li > a'),
    hrefs: await attrsOf(html, 'ol.search-results li > a', 'href'),
  }
}

beforeAll(async () => {
  await publish(inject('secondEssayBuild'))
})
afterAll(async () => {
  await publish(inject('siteBuild'))
})

describe('searching the essays', () => {
  it('finds a word that appears in one essay only, with a line of context around it', async () => {
    const { html, titles, hrefs } = await hitsOf('chair')
    expect(titles).toEqual(['Sitting All Day'])
    expect(hrefs).toEqual(['/back-pain/posture/sitting-all-day'])
    expect(await textsOf(html, 'ol.search-results mark')).toEqual(['chairs'])
    // The other way round: a word only the seed essay has.
    expect((await hitsOf('  THEORIES ')).titles).toEqual(['Spine Exercises and Back Pain'])
    // Both essays say "spine exercises" (the fixture links to the seed essay).
    expect((await hitsOf('spine exercises')).titles.sort()).toEqual([
      'Sitting All Day',
      'Spine Exercises and Back Pain',
    ])
  })

  it('needs every word, ignores case and accents, and says plainly when nothing matches', async () => {
    expect((await hitsOf('CHAÍRS')).titles).toEqual(['Sitting All Day'])
    const none = await hitsOf('chair zebra')
    expect(none.titles).toEqual([])
    expect(none.html).toContain('No essay has every word')
  })

  it('is a page about one query: kept out of the index and the edge cache', async () => {
    const res = await get('/search?q=spine&utm_source=share')
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(await attrsOf(await res.text(), 'meta[name="robots"]', 'content')).toEqual(['noindex'])
  })

  it('refuses a query over 200 characters with 400, naming q', async () => {
    const res = await get(`/search?q=${'a'.repeat(201)}`, { headers: { Accept: 'application/json' } })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { fields: object } }).error.fields).toHaveProperty('q')
  })

  it('starts from a box in every page header, which works without JavaScript', async () => {
    const html = await (await get('/back-pain/back-exercises/spine-exercises')).text()
    expect(await attrsOf(html, 'header.site search form', 'action')).toEqual(['/search'])
    expect(await attrsOf(html, 'header.site search input[type="search"]', 'name')).toEqual(['q'])
    expect(await attrsOf(html, 'header.site search label', 'for')).toEqual(['site-search-q'])
  })
})
