/** Trust: a medically reviewed essay says who reviewed it and when, and carries its references. */
import { afterAll, describe, expect, inject, it } from 'vitest'
import { attrsOf, get, publish, textsOf } from './helpers'

const SECOND = '/back-pain/posture/sitting-all-day'
const ESSAY = '/back-pain/back-exercises/spine-exercises'
const ldOf = async (html: string) =>
  (await textsOf(html, 'script[type="application/ld+json"]')).map((s) => JSON.parse(s) as Record<string, unknown>)

afterAll(async () => {
  await publish(inject('siteBuild'))
})

describe('an essay with a reviewer and references in its front matter and text', () => {
  it('shows "Reviewed by … on …", says so in its JSON-LD, and lists its references with links back', async () => {
    await publish(inject('secondEssayBuild'))
    const html = await (await get(SECOND)).text()
    const meta = (await textsOf(html, 'p.meta')).join(' ')
    expect(meta).toContain('Reviewed by Dr. Jane Roe, physiotherapist on December 3, 2026')
    expect(await attrsOf(html, 'p.meta time', 'datetime')).toContain('2026-12-03')
    const ld = await ldOf(html)
    expect(ld.map((d) => d['@type']).sort()).toEqual(['Article', 'BreadcrumbList', 'MedicalWebPage'])
    expect(ld.find((d) => d['@type'] === 'MedicalWebPage')).toMatchObject({
      lastReviewed: '2026-12-03',
      reviewedBy: { '@type': 'Person', name: 'Dr. Jane Roe, physiotherapist' },
    })
    // The reference: a numbered note at the end, linked from the text and back to it.
    const [ref] = await attrsOf(html, 'sup.footnote-ref a', 'href')
    expect(ref).toMatch(/^#fn/)
    const notes = await textsOf(html, 'section.footnotes ol li')
    expect(notes).toHaveLength(1)
    expect(notes[0]).toContain('A made-up study of chairs')
    const [back] = await attrsOf(html, 'section.footnotes a.footnote-backref', 'href')
    expect(back).toMatch(/^#fnref/)
    expect(await attrsOf(html, `[id="${back?.slice(1)}"]`, 'href')).toEqual([ref])
  })

  it('invents nothing for the seed essay, which names no reviewer', async () => {
    await publish(inject('siteBuild'))
    const html = await (await get(ESSAY)).text()
    expect(html).not.toContain('Reviewed by')
    expect((await ldOf(html)).map((d) => d['@type'])).not.toContain('MedicalWebPage')
  })
})
