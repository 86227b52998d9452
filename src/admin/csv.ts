import { presentSubscriber } from '../subscribers/present'
import type { Subscriber } from '../subscribers/store'
import { type Cursor, listSubscribers, type SubscriberFilter } from './store'

/** The CSV export's columns, in order. */
export const CSV_COLUMNS = [
  'id',
  'email',
  'first_name',
  'status',
  'course',
  'timezone',
  'lessons_received',
  'source',
  'referrer',
  'landing_path',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'consent_at',
  'consent_ip',
  'consent_user_agent',
  'consent_text',
  'created_at',
  'confirmed_at',
  'unsubscribed_at',
] as const

/**
 * One CSV field (RFC 4180 quoting). A value that a spreadsheet would run as a formula (=, +, -, @,
 * tab, CR) is prefixed with an apostrophe: a subscriber's name must never become a formula.
 */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value)
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** One subscriber as a CSV line. */
export function csvLine(s: Subscriber): string {
  const p = presentSubscriber(s)
  const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    ...p,
    consent_at: p.consent.at,
    consent_ip: p.consent.ip,
    consent_user_agent: p.consent.user_agent,
    consent_text: p.consent.text,
  }
  return `${CSV_COLUMNS.map((c) => csvField(row[c])).join(',')}\r\n`
}

/** Cursors of the list, as the API and the dashboard hand them out (opaque to clients). */
export const encodeCursor = (c: Cursor) => btoa(JSON.stringify([c.createdAt, c.id])).replace(/=+$/, '')
export function decodeCursor(text: string): Cursor | undefined {
  try {
    const [createdAt, id] = JSON.parse(atob(text)) as unknown[]
    return typeof createdAt === 'number' && typeof id === 'string' ? { createdAt, id } : undefined
  } catch {
    return undefined
  }
}

/**
 * The filtered list as a CSV download, streamed page by page: an export of any size needs no more
 * memory than one page.
 */
export function csvResponse(db: D1Database, filter: SubscriberFilter): Response {
  let after: Cursor | undefined
  let done = false
  const encoder = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`${CSV_COLUMNS.join(',')}\r\n`))
    },
    async pull(controller) {
      if (done) return controller.close()
      const page = await listSubscribers(db, filter, 500, after)
      controller.enqueue(encoder.encode(page.subscribers.map(csvLine).join('')))
      after = page.next
      done = !page.next
    },
  })
  return new Response(body, {
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': 'attachment; filename="subscribers.csv"',
      'Cache-Control': 'no-store',
    },
  })
}
