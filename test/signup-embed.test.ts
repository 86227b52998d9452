import { beforeAll, describe, expect, inject, it } from 'vitest'
import { attrsOf, consentText, get, publishWithPartner, signup, subscriberByEmail } from './helpers'

const PARTNER = 'https://partner.example'
const consent = consentText(inject('siteBuild'))

beforeAll(async () => {
  await publishWithPartner(inject('siteBuild'), PARTNER)
})

describe('the one-line snippet a partner pastes', () => {
  it('is a script any site may load, which inserts the form with the host page as attribution', async () => {
    const res = await get('/embed.js')
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin')
    const js = await res.text()
    for (const part of ['/embed/signup?', 'landing:location.href', 'referrer:document.referrer', 'utm_campaign'])
      expect(js).toContain(part)
  })
})

describe('the embeddable form', () => {
  const url = `/embed/signup?source=partner-blog&landing=${encodeURIComponent(`${PARTNER}/post`)}&utm_campaign=fall&referrer=${encodeURIComponent('https://news.example/')}`

  it('may be framed by the listed sites only, and carries the host page’s attribution', async () => {
    const res = await get(url)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toContain(`frame-ancestors 'self' ${PARTNER}`)
    expect(res.headers.get('x-frame-options')).toBeNull()
    const html = await res.text()
    const hidden = async (name: string) => (await attrsOf(html, `form.signup input[name="${name}"]`, 'value'))[0]
    expect(await hidden('embed')).toBe('1')
    expect(await hidden('source')).toBe('partner-blog')
    expect(await hidden('landing_path')).toBe(`${PARTNER}/post`)
    expect(await hidden('utm_campaign')).toBe('fall')
    expect(await hidden('referrer')).toBe('https://news.example/')
    expect(await attrsOf(html, 'header.site', 'class')).toEqual([])
    // The newsletter's box is in the embed too, unticked.
    expect(await attrsOf(html, 'form.signup input[name="newsletter"]', 'type')).toEqual(['checkbox'])
    expect(await attrsOf(html, 'form.signup input[name="newsletter"]', 'checked')).toEqual([])
  })

  it("opens its links on the site itself, not inside the partner's frame, and keeps its answers in the frame", async () => {
    for (const page of [url, '/embed/thanks']) {
      const html = await (await get(page)).text()
      expect(await attrsOf(html, 'head base', 'target'), page).toEqual(['_top'])
    }
    const form = await (await get(url)).text()
    expect(await attrsOf(form, 'form.signup', 'target')).toEqual(['_self'])
    // The article pages are not framed: no base target there.
    expect(await attrsOf(await (await get('/cure-back-pain-program')).text(), 'head base', 'target')).toEqual([])
  })

  it('tells the host page its height, and the snippet sizes its frame to it, from our origin only', async () => {
    const thanks = await (await get('/embed/thanks')).text()
    const [script] = await attrsOf(thanks, 'script[src]', 'src')
    const code = await (await get(script ?? '')).text()
    expect(code).toContain('parent.postMessage({spineEmbedHeight:')
    const snippet = await (await get('/embed.js')).text()
    expect(snippet).toContain("addEventListener('message'")
    expect(snippet).toContain('e.origin===o&&e.source===f.contentWindow')
  })

  it('is the only page that may be framed', async () => {
    const res = await get('/cure-back-pain-program')
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
  })

  it('stays inside its frame: thanks after a signup, the form again after a mistake', async () => {
    const fields = {
      consent,
      embed: '1',
      source: 'partner-blog',
      landing_path: `${PARTNER}/post`,
      utm_campaign: 'fall',
    }
    const ok = await signup({ ...fields, email: 'embedded@example.com' })
    expect(ok.status).toBe(303)
    expect(ok.headers.get('location')).toBe('/embed/thanks')
    expect(await subscriberByEmail('embedded@example.com')).toMatchObject({
      source: 'partner-blog',
      landing_path: `${PARTNER}/post`,
      utm_campaign: 'fall',
    })
    const thanks = await get('/embed/thanks')
    expect(thanks.headers.get('content-security-policy')).toContain(`frame-ancestors 'self' ${PARTNER}`)

    const wrong = await signup({ ...fields, email: 'not-an-email' })
    expect(wrong.status).toBe(400)
    expect(wrong.headers.get('content-security-policy')).toContain(`frame-ancestors 'self' ${PARTNER}`)
    expect(await attrsOf(await wrong.text(), 'form.signup input[name="embed"]', 'value')).toEqual(['1'])
  })
})
