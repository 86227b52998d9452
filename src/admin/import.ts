/** CSV import of subscribers with their consent evidence: every row checked, all taken in one go. */
import * as v from 'valibot'
import { fieldProblems } from '../lib/errors'
import { jsonRuns as runs } from '../lib/runs'
import { ring } from '../mail/relay'
import { importMany, type LifecycleDeps } from '../subscribers/lifecycle'
import { courseId, DEFAULT_COURSE, fields } from '../subscribers/schema'
import { normalizeEmail } from '../subscribers/store'
import { type SuppressionReason, suppressionHash, suppressionsOf } from '../subscribers/suppression'
import { STATUSES } from './schemas'

/** A moment in the past, as ISO 8601 with its offset: consent cannot be given tomorrow. */
const instant = (now: number) =>
  v.pipe(
    v.string(),
    v.isoTimestamp('must be an ISO 8601 date and time with its offset'),
    v.check((s) => Date.parse(s) <= now, 'must not be in the future'),
  )

/**
 * One row of an import: the export's columns, so an export imports back as it was. Each field is
 * checked by the same rule as at signup (a name with a line break or markup is refused here too).
 */
const rowSchema = (now: number) =>
  v.object({
    email: fields.email,
    first_name: fields.name,
    status: v.optional(v.picklist(STATUSES, `must be one of ${STATUSES.join(', ')}`), 'active'),
    course: v.optional(courseId, DEFAULT_COURSE),
    timezone: fields.timezone,
    lessons_received: v.optional(
      v.pipe(v.string(), v.regex(/^\d{1,4}$/, 'must be a whole number'), v.transform(Number)),
      '0',
    ),
    source: fields.source,
    referrer: fields.referrer,
    landing_path: fields.landingPath,
    utm_source: fields.utm,
    utm_medium: fields.utm,
    utm_campaign: fields.utm,
    utm_term: fields.utm,
    utm_content: fields.utm,
    consent_at: instant(now),
    consent_text: v.pipe(fields.consent, v.trim(), v.minLength(1, 'is required: the wording the person agreed to')),
    consent_ip: v.optional(v.pipe(v.string(), v.ip('must be an IP address'))),
    consent_user_agent: fields.userAgent,
    created_at: v.optional(instant(now)),
    confirmed_at: v.optional(instant(now)),
    unsubscribed_at: v.optional(instant(now)),
  })

/** What an import did: rows taken, and each refused row with its line and reasons. */
export interface ImportReport {
  taken: number
  refused: { line: number; email: string; reasons: string[] }[]
}

/** The export neutralises formulas with a leading apostrophe; an import takes it back off. */
const unneutralise = (v: string) => (/^'[=+\-@\t\r]/.test(v) ? v.slice(1) : v)

const ms = (iso: string | undefined) => (iso ? Date.parse(iso) : null)

/**
 * Checks every row, then stores all the good ones in one D1 transaction (nothing half-imported),
 * however many a CSV of up to 5 MB holds (150,000 short rows): every query takes its list a run at
 * a time, within D1's limits.
 * A row is refused, with its line and reasons, when it repeats an earlier row, its address already
 * has the course, the address was erased at the person's request (never stored again), or it names
 * a course that is not published or more lessons than the course has.
 */
export async function importSubscribers(
  deps: LifecycleDeps,
  /** The queue the import's events are handed to. */
  mail: Queue,
  csv: string,
  now: number,
  dryRun: boolean,
  /** The published courses and how many lessons each has. */
  courses: Record<string, number>,
): Promise<ImportReport> {
  // d3-dsv (RFC 4180: quoted fields, commas and line breaks in them): 2.6 KB minified where
  // papaparse was 20.8 KB. Its rows as arrays: csvParse builds objects with `new Function`, which
  // the Workers runtime refuses. Lines with no value at all (blank, or only commas) are not rows.
  const { csvParseRows } = await import('d3-dsv')
  const [header = [], ...lines] = csvParseRows(csv.replace(/^\uFEFF/, ''))
  const parsed = {
    data: lines
      .filter((cells) => cells.some((x) => x.trim()))
      .map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i]]))),
  }
  const report: ImportReport = { taken: 0, refused: [] }
  const seen = new Set<string>()
  const checked: { line: number; row: v.InferOutput<ReturnType<typeof rowSchema>> }[] = []
  const schema = rowSchema(now)
  for (const [i, raw] of parsed.data.entries()) {
    const line = i + 2 // the header is line 1
    const cleaned = Object.fromEntries(
      Object.entries(raw).flatMap(([k, v]) => (v === '' || v === undefined ? [] : [[k.trim(), unneutralise(v)]])),
    )
    const row = v.safeParse(schema, cleaned)
    const email = String(cleaned.email ?? '')
    if (!row.success) {
      report.refused.push({
        line,
        email,
        reasons: Object.entries(fieldProblems(row.issues)).map(([f, m]) => `${f} ${m}`),
      })
      continue
    }
    const lessons = Object.hasOwn(courses, row.output.course) ? courses[row.output.course] : undefined
    if (lessons === undefined) {
      report.refused.push({ line, email, reasons: [`course must be one of ${Object.keys(courses).join(', ')}`] })
      continue
    }
    if (row.output.lessons_received > lessons) {
      report.refused.push({
        line,
        email,
        reasons: [`lessons_received must be at most ${lessons}, the course's lessons`],
      })
      continue
    }
    const key = `${normalizeEmail(row.output.email)} ${row.output.course}`
    if (seen.has(key)) {
      report.refused.push({ line, email, reasons: ['repeats an earlier row'] })
      continue
    }
    seen.add(key)
    checked.push({ line, row: row.output })
  }
  const addresses = checked.map((g) => normalizeEmail(g.row.email))
  const hashes = await Promise.all(addresses.map((a) => suppressionHash(a)))
  // Looked up a run at a time: the whole list as one value is past D1's 2 MB (40,000 hashes are 2.7 MB).
  const [existing, suppressed] = await Promise.all([
    Promise.all(
      runs(addresses).map((run) =>
        deps.db
          .prepare(
            `SELECT email_normalized || ' ' || course AS k FROM subscribers WHERE email_normalized IN (SELECT value FROM json_each(?))`,
          )
          .bind(JSON.stringify(run))
          .all<{ k: string }>(),
      ),
    ),
    Promise.all(runs(hashes).map((run) => suppressionsOf(deps.db, run))),
  ])
  const taken = new Set(existing.flatMap((r) => r.results.map((x) => x.k)))
  const reasonOf = new Map(suppressed.flatMap((m) => [...m]))
  const rows = checked.flatMap(({ line, row }, i) => {
    const reason = reasonOf.get(hashes[i] ?? '')
    const reasons = [
      ...(reason ? [suppressedText[reason]] : []),
      ...(taken.has(`${addresses[i]} ${row.course}`) ? ['is already subscribed to this course'] : []),
    ]
    if (reasons.length > 0) report.refused.push({ line, email: row.email, reasons })
    return reasons.length > 0 ? [] : [{ row, hash: hashes[i] ?? '' }]
  })
  report.refused.sort((a, b) => a.line - b.line)
  report.taken = rows.length
  if (dryRun || rows.length === 0) return report
  const result = await importMany(
    deps,
    rows.map(({ row: r }) => ({
      email: r.email,
      firstName: r.first_name ?? null,
      course: r.course,
      status: r.status,
      timezone: r.timezone ?? 'UTC',
      lessonPosition: r.lessons_received,
      // An active subscriber's next lesson is due now; the cron picks it up.
      nextSendAt: r.status === 'active' ? now : null,
      source: r.source ?? null,
      referrer: r.referrer ?? null,
      landingPath: r.landing_path ?? null,
      utm: [r.utm_source, r.utm_medium, r.utm_campaign, r.utm_term, r.utm_content].map((v) => v ?? null),
      consentAt: ms(r.consent_at) ?? now,
      consentIp: r.consent_ip ?? null,
      consentUserAgent: r.consent_user_agent ?? null,
      consentText: r.consent_text,
      createdAt: ms(r.created_at) ?? now,
      confirmedAt: ms(r.confirmed_at),
      unsubscribedAt: ms(r.unsubscribed_at),
    })),
    rows.map((r) => r.hash),
    now,
  )
  await ring(deps.db, mail, result.outbox)
  return report
}

const suppressedText: Record<SuppressionReason, string> = {
  erased: "was erased at the person's request, and is never stored again",
  bounced: 'bounced for good, and is never mailed again',
  complained: 'marked our email as spam, and is never mailed again',
}
