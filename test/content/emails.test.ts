import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import site from '../../content/site.json'
import { buildEmails, EMAIL_BUDGET_BYTES } from '../../scripts/email-build'
import type { EmailTemplate } from '../../src/site/manifest'
import type { SiteBuild } from '../../src/site/publish'
import type { SiteSettings } from '../../src/ui/types'

const root = fileURLToPath(new URL('../..', import.meta.url))
/** The placeholders the Worker fills at send time; any other left in an email is a bug. */
const SEND_TIME = new Set([
  'greeting',
  'course_title',
  'newsletter_title',
  'confirm_url',
  'unsubscribe_url',
  'preferences_url',
  'web_url',
  'stay_url',
  'grace_days',
])
let emails: Record<string, EmailTemplate>

/**
 * Where the site links of an email part lead: each is `{{site_url}}/r/{{click}}/<id>` (counted on our
 * own domain), and the build's link table gives the tagged path of each id. Throws on any site link
 * that bypasses /r/, or an id the table lacks.
 */
function targetsIn(part: string, build: SiteBuild): string[] {
  return [...part.matchAll(/\{\{site_url\}\}(\/[^\s"\]]*)/g)].map((m) => {
    const tracked = /^\/r\/\{\{click\}\}\/([\w-]+)$/.exec(m[1] ?? '')
    if (!tracked) throw new Error(`a site link bypasses /r/: ${m[1]}`)
    const target = build.links[tracked[1] ?? '']
    if (!target) throw new Error(`no link ${tracked[1]} in the build's table`)
    return target
  })
}

beforeAll(async () => {
  emails = await buildEmails(join(root, 'emails'), site as SiteSettings)
})

describe('every email in emails/', () => {
  it('compiles under MJML strict validation, with a subject', () => {
    expect(Object.keys(emails)).toContain('confirmation')
    for (const [name, e] of Object.entries(emails)) expect(e.subject, name).not.toBe('')
  })

  it(`stays under ${EMAIL_BUDGET_BYTES / 1024} KB of HTML, so Gmail never clips the unsubscribe link`, () => {
    for (const [name, e] of Object.entries(emails))
      expect(Buffer.byteLength(e.html), name).toBeLessThanOrEqual(EMAIL_BUDGET_BYTES)
  })

  it('has a text part with the same unsubscribe link, postal address and disclaimer', () => {
    for (const [name, e] of Object.entries(emails)) {
      for (const part of [e.text, e.html]) {
        expect(part, name).toContain('{{unsubscribe_url}}')
        expect(part, name).toContain('Springfield, IL 62701')
        expect(part, name).toContain('information, not medical advice')
      }
      expect(e.text, name).not.toMatch(/<[a-z]/i)
    }
  })

  it('reads well in a dark mail client: it declares both color schemes and styles the dark one', () => {
    for (const [name, e] of Object.entries(emails)) {
      expect(e.html, name).toContain('<meta name="color-scheme" content="light dark"')
      expect(e.html, name).toMatch(/@media \(prefers-color-scheme: dark\)[^}]*\.email-body/)
      expect(e.html, name).toMatch(/class="[^"]*email-body/)
    }
  })

  it('leaves only the placeholders the Worker fills at send time, and loads nothing from elsewhere', () => {
    for (const [name, e] of Object.entries(emails)) {
      const left = [...`${e.subject}${e.html}${e.text}`.matchAll(/\{\{([^}]+)\}\}/g)].map((m) => m[1])
      for (const p of left) expect(SEND_TIME.has(p ?? ''), `${name}: {{${p}}}`).toBe(true)
      expect(e.html, name).not.toContain('fonts.googleapis.com')
    }
  })
})

describe('an email with an MJML mistake', () => {
  it('stops the build with the file named', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emails-'))
    try {
      await writeFile(
        join(dir, 'broken.mjml'),
        '<mjml><mj-body><mj-section><mj-text>Not in a column</mj-text></mj-section></mj-body></mjml>',
      )
      await expect(buildEmails(dir, site as SiteSettings)).rejects.toThrow(/broken\.mjml/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('every lesson of every course', () => {
  it('is cut from the essay, one per part, and fits the budget with a text part and the footer', async () => {
    const { buildSite } = await import('../../scripts/site-build')
    const { build } = await buildSite(join(root, 'content'))
    const lessons = build.courses['cure-back-pain-program']?.lessons ?? []
    expect(lessons.map((l) => l.title)).toEqual([
      'Spine Exercises and Back Pain',
      'What are Spine Exercises?',
      'Spine Exercises Surprises',
      'Spine Exercises Theories',
      'Spine Exercise Summation',
    ])
    for (const [i, l] of lessons.entries()) {
      expect(l.subject).toMatch(new RegExp(`^Lesson ${i + 1} of 5`))
      expect(Buffer.byteLength(l.html)).toBeLessThanOrEqual(EMAIL_BUDGET_BYTES)
      expect(l.text).toContain(`Lesson ${i + 1} of 5`)
      for (const part of [l.html, l.text]) {
        expect(part).toContain('{{unsubscribe_url}}')
        expect(part).toContain('{{preferences_url}}')
        expect(part).toContain('Springfield, IL 62701')
        const targets = targetsIn(part, build).join(' ')
        expect(targets).toContain('utm_medium=email')
        expect(targets).toContain('utm_content=lesson-')
      }
      // The site's name heads it, a preheader previews it, and the web link is a button.
      expect(l.text.startsWith('Spine Health Library')).toBe(true)
      expect(l.html).toMatch(/<div style="display:none[^>]*>[^<]{20,}/)
      expect(l.html).toMatch(
        /class="button"[\s\S]{0,1500}?<a\s+href="\{\{site_url\}\}[^"]+"[^>]*>\s*Read this lesson on the web/,
      )
      const left = [...`${l.subject}${l.html}${l.text}`.matchAll(/\{\{([^}]+)\}\}/g)].map((m) => m[1])
      // The site's origin and the next lesson's day are the sender's to fill, like the links.
      const next = i < lessons.length - 1 ? ['next_when'] : []
      expect(new Set(left)).toEqual(
        new Set(['greeting', 'preferences_url', 'unsubscribe_url', 'site_url', 'click', ...next]),
      )
      for (const part of [l.html, l.text])
        expect(targetsIn(part, build).some((t) => t.startsWith(`${l.webPath.split('#')[0]}?utm_source=`))).toBe(true)
    }
  })
})

describe('every newsletter email of both builds', () => {
  /** The placeholders a broadcast fills per reader and per broadcast; nothing else may be left. */
  const BROADCAST_TIME = new Set(['greeting', 'preferences_url', 'unsubscribe_url', 'site_url', 'campaign', 'click'])
  const FIXTURE_ESSAY = '/back-pain/posture/sitting-all-day'
  const builds = {} as Record<'content' | 'second-essay', SiteBuild>

  beforeAll(async () => {
    // Built as the global setup builds them for the Worker's tests: content/, and content/ plus the
    // fixture essay. The build compiles each email under MJML strict validation and throws otherwise.
    const { buildSite } = await import('../../scripts/site-build')
    builds.content = (await buildSite(join(root, 'content'))).build
    const dir = await mkdtemp(join(tmpdir(), 'content-'))
    try {
      await cp(join(root, 'content'), dir, { recursive: true })
      await cp(join(root, 'test/fixtures/second-essay'), dir, { recursive: true })
      builds['second-essay'] = (await buildSite(dir)).build
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 60_000)

  const each = () =>
    Object.entries(builds).flatMap(([name, build]) =>
      Object.entries(build.broadcasts ?? {}).map(([path, e]) => ({ label: `${name} ${path}`, path, e, build })),
    )

  it('are built for every letter and every essay not marked newsletter: false, and only those', () => {
    const content = Object.keys(builds.content.broadcasts ?? {}).sort()
    // The course's own essay reaches its readers as lessons: it is no newsletter email.
    expect(content).toEqual(['/letters/welcome'])
    expect(Object.keys(builds['second-essay'].broadcasts ?? {}).sort()).toEqual([FIXTURE_ESSAY, ...content].sort())
    for (const { label, path, e } of each()) {
      expect(e.kind, label).toBe(path.startsWith('/letters/') ? 'letter' : 'essay')
      expect(e.subject, label).toBe(e.title)
      expect(e.html, label).toMatch(/^<!doctype html>/i)
    }
  })

  it(`stay under ${EMAIL_BUDGET_BYTES / 1024} KB of HTML, so Gmail never clips the unsubscribe link`, () => {
    for (const { label, e } of each()) expect(Buffer.byteLength(e.html), label).toBeLessThanOrEqual(EMAIL_BUDGET_BYTES)
  })

  it('have a text part with the unsubscribe and preferences links, the postal address and the disclaimer', () => {
    for (const { label, e } of each()) {
      expect(e.text.trim().length, label).toBeGreaterThan(200)
      expect(e.text, label).not.toMatch(/<[a-z]/i)
      expect(e.text.startsWith(site.name), label).toBe(true)
      expect(e.text, label).toContain(e.title)
      for (const part of [e.html, e.text]) {
        expect(part, label).toContain('{{unsubscribe_url}}')
        expect(part, label).toContain('{{preferences_url}}')
        expect(part, label).toContain('{{greeting}}')
        expect(part, label).toContain('Springfield, IL 62701')
        expect(part, label).toContain('information, not medical advice')
      }
      // The link in the HTML and the one in the text are the same signed links once filled.
      expect(e.html, label).toMatch(/href="\{\{unsubscribe_url\}\}"/)
      expect(e.html, label).toMatch(/href="\{\{preferences_url\}\}"/)
    }
  })

  it('leave only the placeholders a broadcast fills at send time', () => {
    for (const { label, e } of each()) {
      const left = new Set([...`${e.subject}${e.html}${e.text}`.matchAll(/\{\{([^}]*)\}\}/g)].map((m) => m[1]))
      for (const p of left) expect(BROADCAST_TIME.has(p ?? ''), `${label}: {{${p}}}`).toBe(true)
      // No build-time value ({{site.name}}, {{letter.body}}…) was left unfilled.
      expect(`${e.subject}${e.html}${e.text}`, label).not.toMatch(/\{\{(site|letter)\./)
      expect(e.html, label).not.toContain('fonts.googleapis.com')
    }
  })

  it('tag every link into the site with the broadcast as utm_campaign', () => {
    for (const { label, e, build } of each())
      for (const part of [e.html, e.text]) {
        const links = targetsIn(part, build)
        expect(links.length, label).toBeGreaterThan(0)
        for (const link of links) {
          expect(link, label).toContain('utm_medium=email')
          expect(link, label).toContain('utm_campaign={{campaign}}')
        }
      }
  })

  it('an essay has "Read the whole essay", linked to it with utm_campaign={{campaign}}; a letter has none', () => {
    const essays = each().filter(({ e }) => e.kind === 'essay')
    expect(essays.map(({ path }) => path)).toEqual([FIXTURE_ESSAY])
    for (const { label, path, e, build } of each()) {
      const target = `${path}?utm_source=${site.utmSource}&utm_medium=email&utm_campaign={{campaign}}&utm_content=read-essay`
      if (e.kind === 'essay') {
        const href = /<a\s+href="([^"]+)"[^>]*>\s*Read the whole essay\s*<\/a>/.exec(e.html)?.[1] ?? ''
        expect(targetsIn(`${href.replace(/&amp;/g, '&')}"`, build), label).toEqual([target])
        const inText = /Read the whole essay\s*\[([^\]]+)\]/.exec(e.text)?.[1] ?? ''
        expect(targetsIn(`${inText}"`, build), label).toEqual([target])
      } else {
        for (const part of [e.html, e.text]) {
          expect(part, label).not.toContain('Read the whole essay')
          expect(targetsIn(part, build).join(' '), label).not.toContain('utm_content=read-essay')
        }
      }
    }
  })
})
