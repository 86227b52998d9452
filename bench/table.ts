/** The last step of `npm run bench`: every figure of the run in one table, against its target. */
import { join } from 'node:path'
import { buildSite } from '../scripts/site-build'
import { recorded } from './figures'
import { notIndexed, root } from './lib'

const f = await recorded()
const { build } = await buildSite(join(root, 'content'))
const largestLesson = Math.max(
  ...Object.values(build.courses).flatMap((c) => c.lessons.map((l) => Buffer.byteLength(l.html))),
)
const site = f.site ?? {}
const course = f.course ?? {}
const broadcast = f.broadcast ?? {}
const year = f.year ?? {}
const lh = f.lighthouse ?? {}
const bundle = f.bundle ?? {}
const n = (v: number | undefined, digits = 0) => (v === undefined ? '–' : v.toFixed(digits))
const rows: [string, string, string, boolean | undefined][] = [
  ['essay from KV: req/s, p99 ms', `${n(site.pageRps)}, ${n(site.pageP99, 1)}`, '', undefined],
  ['same bytes as a static asset: req/s, p99 ms', `${n(site.assetRps)}, ${n(site.assetP99, 1)}`, '', undefined],
  [
    'KV / static throughput',
    n((site.pageRps ?? 0) / (site.assetRps || 1), 2),
    '>= 0.90',
    (site.pageRps ?? 0) / (site.assetRps || 1) >= 0.9,
  ],
  [
    'essay page gzip / brotli KB',
    `${n((site.gzipBytes ?? 0) / 1024, 1)} / ${n((site.brotliBytes ?? 0) / 1024, 1)}`,
    '<= 14',
    (site.gzipBytes ?? Infinity) <= 14 * 1024,
  ],
  ['render-blocking requests', n(site.blocking), '0', site.blocking === 0],
  [
    'signups/s as fast as 16 connections go (workerd), p99 ms, failed',
    `${n(site.signupRps)}, ${n(site.signupP99, 1)}, ${n(site.signupFailed)}`,
    '>= 500/s, 0 failed',
    (site.signupRps ?? 0) >= 500 && site.signupFailed === 0,
  ],
  [
    'signups at a steady 500/s, open loop: p50, p99 ms',
    `${n(site.signupP50At500, 1)}, ${n(site.signupP99At500, 1)}`,
    'p99 < 50',
    (site.signupP99At500 ?? Infinity) < 50,
  ],
  ['signups/s through wrangler dev', n(site.devSignupRps), '', undefined],
  [`course: ${n(course.subscribers)} lessons, seconds`, n(course.seconds, 1), '', undefined],
  ['course emails/s', n(course.emailsPerSecond), '>= 1000', (course.emailsPerSecond ?? 0) >= 1000],
  ['workerd CPU per batch of 100, ms', n(course.cpuMsPerBatch), '', undefined],
  [
    `broadcast now to ${n(broadcast.members)} members: POST answered, last email accepted, s`,
    `${n(broadcast.answeredSeconds, 1)}, ${n(broadcast.seconds, 1)}`,
    '',
    undefined,
  ],
  ['broadcast emails/s', n(broadcast.emailsPerSecond), '>= 1000', (broadcast.emailsPerSecond ?? 0) >= 1000],
  ['broadcast: workerd CPU per batch of 100, ms', n(broadcast.cpuMsPerBatch), '', undefined],
  [
    `a year for ${n(year.subscribers)} subscribers (course, 52 broadcasts, provider events): D1 MB`,
    n(year.d1Bytes === undefined ? undefined : year.d1Bytes / 1e6, 1),
    '',
    undefined,
  ],
  [
    'D1 bytes per subscriber-year',
    n(year.bytesPerSubscriberYear),
    '<= 5120',
    (year.bytesPerSubscriberYear ?? Infinity) <= 5120,
  ],
  [
    'year: course / broadcast emails/s',
    `${n(year.courseEmailsPerSecond)} / ${n(year.broadcastEmailsPerSecond)}`,
    '',
    undefined,
  ],
  [
    'year: provider webhook events/s, answers not 2xx',
    `${n(year.webhookEventsPerSecond)}, ${n(year.eventsNot2xx)}`,
    '0 not 2xx',
    year.eventsNot2xx === 0,
  ],
  [
    'Lighthouse performance / a11y / best practices / SEO',
    ['performance', 'accessibility', 'best-practices', 'seo'].map((k) => n(lh[k])).join(' / '),
    '100 each',
    ['performance', 'accessibility', 'best-practices', 'seo'].every((k) => lh[k] === 100),
  ],
  [
    'Worker bundle (wrangler deploy --dry-run), raw / gzip KiB',
    `${n(bundle.rawKiB, 1)} / ${n(bundle.gzipKiB, 1)}`,
    'gzip <= 100',
    (bundle.gzipKiB ?? Infinity) <= 100,
  ],
  [
    'startup CPU (wrangler check startup), ms: median (range)',
    `${n(bundle.startupMs, 1)} (${n(bundle.startupMinMs, 1)} to ${n(bundle.startupMaxMs, 1)})`,
    '<= 10',
    (bundle.startupMs ?? Infinity) <= 10,
  ],
  ...Object.entries((f.lighthousePages ?? {}) as unknown as Record<string, Record<string, number>>).map(
    ([path, scores]): [string, string, string, boolean | undefined] => [
      `Lighthouse ${path}`,
      ['performance', 'accessibility', 'best-practices', 'seo'].map((k) => n(scores[k])).join(' / '),
      // The search and preferences pages are kept out of search engines by design (noindex): SEO is not their target.
      notIndexed(path) ? '100 but SEO' : '100 each',
      ['performance', 'accessibility', 'best-practices', ...(notIndexed(path) ? [] : ['seo'])].every(
        (k) => scores[k] === 100,
      ),
    ],
  ),
  ['largest lesson, KB of HTML', n(largestLesson / 1024, 1), '<= 40', largestLesson <= 40 * 1024],
]
console.table(Object.fromEntries(rows.map(([k, value, target, ok]) => [k, { value, target, ok: ok ?? '' }])))
