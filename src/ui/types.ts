import type { CourseSchedule } from '../lib/schedule'

/** Site-wide settings, read from content/site.json at build time. */
export interface SiteSettings {
  name: string
  baseUrl: string
  description: string
  language: string
  locale: string
  author: string
  disclaimer: string
  postalAddress: string
  wordsPerMinute: number
  /** utm_source of links in the course's emails. */
  utmSource: string
  /** Time zone of a subscriber whose browser and request tell none. */
  defaultTimezone: string
  /** From address of the course's emails (MAIL_FROM overrides it). */
  mailFrom: string
  /** Other sites (origins, e.g. https://partner.example) whose pages may post signups from a browser. */
  signupOrigins?: string[]
  /** Cloudflare Turnstile site key; when set, signup forms show the widget (set TURNSTILE_SECRET too). */
  turnstileSiteKey?: string
  /** The email courses readers can join, by id. */
  courses: Record<string, CourseSettings>
  /** The newsletter: every new essay, sent to those who asked for it. Defaults filled by the build. */
  newsletter?: Partial<NewsletterSettings>
  /**
   * An address that reads replies: set as Reply-To, and offered in List-Unsubscribe as a `mailto:`
   * (whose subject names the subscriber's signed link, for whoever reads that mailbox).
   */
  replyTo?: string
  /**
   * The sunset policy, off unless `afterEmails` is set: a reader with no click in that many emails is
   * asked whether they still want them, and unsubscribed after `graceDays` (7) without an answer.
   */
  sunset?: { afterEmails?: number; graceDays?: number }
  /**
   * How long the raw history is kept (each email a reader received and what became of it, clicks,
   * bounces and complaints, history lines, dead letters): `rawMonths`, 13 by default. Counters,
   * which name no one, are kept for good. The privacy page says so.
   */
  retention?: { rawMonths?: number }
}

/** Months of raw history kept (content/site.json `retention.rawMonths`, 13 by default). */
export const rawMonthsOf = (site: SiteSettings) => site.retention?.rawMonths ?? 13

/** The newsletter topic: its name, its own consent wording, and when a local-morning broadcast goes. */
export interface NewsletterSettings {
  title: string
  consent: string
  schedule: { sendHour: number; skipWeekends: boolean }
  /** The email carries the whole essay instead of its opening. */
  wholeEssay: boolean
}

/** One email course: its name, its page, and the consent wording its signup form shows. */
export interface CourseSettings {
  title: string
  path: string
  consent: string
  schedule: CourseSchedule
}

/** What kind of page a content file becomes; index.md files are sections (the root one is home). */
export type PageKind = 'home' | 'section' | 'essay' | 'page'

/** One link in a list, a breadcrumb or a table of contents. */
export interface LinkItem {
  href: string
  text: string
}

/** A call to action at the end of an essay. */
export interface CallToAction {
  text: string
  label: string
  href: string
}

/** Everything a component needs to render one page; built from a content file, never from storage. */
export interface PageModel {
  path: string
  kind: PageKind
  title: string
  navTitle: string
  description: string
  published: string
  updated: string
  /** Who checked the page medically, and when (front matter `reviewed_by`, `reviewed`); never invented. */
  review?: { by: string; on: string }
  order: number
  /** Listed in the site's navigation (front matter `nav: false` keeps a page such as the privacy notice out). */
  inNav: boolean
  /** Body HTML rendered from our own Markdown at build time. */
  html: string
  toc: LinkItem[]
  words: number
  readingMinutes: number
  cta?: CallToAction
  course?: string
  /** False when the essay is not sent to the newsletter (front matter `newsletter: false`). */
  newsletter: boolean
  /** Ancestors from the top section down, excluding home and the page itself. */
  trail: LinkItem[]
  /** Direct children (pages and sub-sections), in display order. */
  children: PageModel[]
  /** An essay's parts: the untitled opening, then one per `##` heading; a course's lessons. */
  parts: EssayPart[]
}

/** One part of an essay, cut at its `##` headings. */
export interface EssayPart {
  /** The heading's anchor; undefined for the opening. */
  id?: string
  title: string
  /** The part's HTML, without its heading. */
  html: string
  /** Optional per-lesson subject and intro line, from the essay's `lessons` front matter. */
  subject?: string
  intro?: string
}

/** The site's settings as the Worker reads them: content/site.json plus the navigation. */
export interface PublishedSettings extends SiteSettings {
  nav: LinkItem[]
}

/** The newsletter's settings, with the defaults for what content/site.json leaves out. */
export const newsletterOf = (site: SiteSettings): NewsletterSettings => ({
  title: site.newsletter?.title ?? `New essays from ${site.name}`,
  consent:
    site.newsletter?.consent ??
    'Also email me new essays when they are published. I can unsubscribe at any time with one click.',
  schedule: { sendHour: 8, skipWeekends: true, ...site.newsletter?.schedule },
  wholeEssay: site.newsletter?.wholeEssay ?? false,
})
