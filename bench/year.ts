/**
 * `npm run bench` (the year): how D1 grows over a simulated year of one list (issue 13). Target:
 * at most 5 KB (5,120 bytes) of D1 per subscriber-year, so a million subscribers with a year of
 * history fit in 5 GB of D1's 10 GB.
 *
 * - Subscribers: `BENCH_YEAR_SUBSCRIBERS` (default 3,000, about a quarter of an hour on 2 cores;
 *   issue 13's 10,000 took 38 minutes, 32 of them posting 861,000 webhook events and clicks, and
 *   gave the same bytes per subscriber-year within 1%), seeded straight into D1 as the other
 *   benches do (active in the course with lesson 1 due, newsletter members with their consent
 *   columns filled). The admin import (`POST /api/admin/subscribers/import`) is not used: its CSV
 *   has no newsletter column, so it cannot make the newsletter members the broadcasts need.
 * - Content: a temporary copy of content/ with 52 short letters added (content/letters/year-01.md
 *   …), built and published, so 52 distinct broadcasts exist as drafts.
 * - The Worker: the same bundle and bindings on workerd through Miniflare (bench/direct.ts), as the
 *   signup figures run, not behind `wrangler dev`: its development proxy, which production does not
 *   have, cut the webhook route to less than half its rate (about 215 against 475 events/s side
 *   by side on an empty database), and the year posts hundreds of thousands of events. The resend SDK sends to the
 *   local Resend-speaking server (`MAIL_REQUESTS_PER_SECOND=1000`).
 * - The course: the Worker's scheduled handler is fired once a simulated day (Miniflare's
 *   `getWorker().scheduled({scheduledTime})`, the day's 14:00 UTC, after 08:00 in New York), from
 *   365 days ago, until every subscriber has had the closing email or was stopped by a bounce or a
 *   complaint; after each day, once no email has arrived for 2.5 s (the lessons queue's batch
 *   timeout is 1 s), that day's emails get their provider events.
 * - Then 52 broadcasts, one after the other: `POST /api/admin/broadcasts {path, send: 'now'}`,
 *   waiting for its `remaining` to reach 0 before posting its events and sending the next.
 * - Provider events: for each accepted email (the server's sent log: id, recipient, tags) the
 *   events Resend would send, as Resend shapes them (type, created_at, data {email_id, created_at,
 *   from, to, subject, message_id, tags, and bounce or click}), signed as Resend signs them (Svix
 *   headers, `standardwebhooks`, RESEND_WEBHOOK_SECRET), posted to `POST /api/webhooks/resend`,
 *   32 in flight: `email.delivered` for each email, `email.opened` for 40% of them,
 *   `email.clicked` for 5% (a subset of the opened), `email.bounced` (Permanent) instead of
 *   delivered for 0.3% of the first emails to an address, and `email.complained` for 0.02% of the
 *   delivered. Who does what is drawn from a hash of the address and the email (lesson n,
 *   broadcast k), so runs compare. Each provider click is also a first-party click: `GET
 *   /r/<token>/<link>` with the reader's signed token, as the email's own link would be.
 *   A bounce or a complaint stops that reader's mail from then on, as it would.
 * - Event times: the simulated day of the email plus minutes (the event's `created_at`); the
 *   signature's timestamp is real, as the route refuses old ones. The emails themselves are
 *   stamped by the Worker with the real clock (the consumers' `now`), the course's schedule
 *   with the simulated one.
 * - `afterYear()`: where the retention and rollup tick will be fired and timed.
 * - Then D1 is measured: its size as D1 reports it (`meta.size_after`, what counts against its
 *   10 GB), the files on disk, and each table and index: SQLite's `dbstat`, through the official
 *   SQLite WebAssembly build (@sqlite.org/sqlite-wasm) opening a copy of the database file and its
 *   WAL once the Worker has stopped (workerd's D1 refuses `dbstat` and `PRAGMA page_count`).
 *
 * Prints the phases' times, the emails and events, webhook events/s and anything not answered
 * 2xx, D1's size, bytes per subscriber-year and the table of tables and indexes.
 */
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sqlite3InitModule from '@sqlite.org/sqlite-wasm'
import { Webhook } from 'standardwebhooks'
import { buildSite } from '../scripts/site-build'
import { clickToken } from '../src/subscribers/links'
import { type SentRecord, startResendServer } from '../test/support/resend-server'
import { startDirect } from './direct'
import { record } from './figures'
import { root } from './lib'

const SUBSCRIBERS = Number(process.env.BENCH_YEAR_SUBSCRIBERS ?? 3_000)
const BROADCASTS = 52
const port = Number(process.env.BENCH_PORT ?? 8788) + 4
const resendPort = port + 1
const origin = `http://127.0.0.1:${port}`
const state = join(root, 'tmp/bench-year-state')
const TOKEN = 'bench-admin-token-not-a-secret-0123456789'
/** The Worker's signing key: the first-party clicks sign their tokens with it, as the emails do. */
const SIGNING_KEY = 'bench-signing-key'
const WEBHOOK_SECRET = `whsec_${Buffer.from('the year bench webhook secret, not a secret').toString('base64')}`
const COURSE = 'cure-back-pain-program'
const TIMEZONE = 'America/New_York'
const DAY = 86_400_000
const HOUR = 3_600_000
/** Provider events in flight at once. */
const IN_FLIGHT = 32
/** The queue is taken as drained when no email was accepted for this long (its batch timeout is 1 s). */
const QUIET_MS = 2_500

/** What a real list draws, per email. */
const RATES = { opened: 0.4, clicked: 0.05, bounced: 0.003, complained: 0.0002 }

/** Midnight UTC 365 days ago: the simulated year ends about now. */
const YEAR_START = Math.floor((Date.now() - 365 * DAY) / DAY) * DAY
/** The simulated time of day `d`'s cron tick and of broadcast `k`'s emails. */
const dayAt = (d: number) => YEAR_START + d * DAY + 14 * 3_600_000
const broadcastAt = (k: number) => dayAt((k + 1) * 7)

const seconds = (since: number) => (performance.now() - since) / 1000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

/** A number in [0, 1) from a string: FNV-1a, then murmur3's finaliser. The same key, the same draw. */
function draw(key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296
}

/** The 52 letters, short Markdown like content/letters/welcome.md, each linking to the essay. */
async function contentWithLetters(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'year-content-'))
  await cp(join(root, 'content'), dir, { recursive: true })
  for (let k = 1; k <= BROADCASTS; k++) {
    const n = String(k).padStart(2, '0')
    await writeFile(
      join(dir, 'letters', `year-${n}.md`),
      `---
title: Letter ${k} of the year from the Spine Health Library
description: Week ${k}'s short note from the Spine Health Library on what we read about back pain and what comes next.
---

This is week ${k}'s letter. We read the new studies on back pain so that you do not have to, and
here is the one worth your time this week: a trial that compared exercise with rest, and found,
once again, that people who kept moving got better sooner.

If you have not read it yet, [Spine Exercises and Back Pain](/back-pain/back-exercises/spine-exercises)
says why, and which exercises the evidence supports.

Until next week.
`,
    )
  }
  return dir
}

/** A browser's user agent as signups record it (consent evidence), about the usual length. */
const USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

/**
 * Every reader: active in the course with lesson 1 due at `at`, and a newsletter member since then,
 * with the consent evidence of a real signup (the site's own wording for both topics, an IP address,
 * a user agent, where they came from) and the three history lines a signup and its confirmation
 * write, so that the subscriber's own bytes are counted as they would be.
 */
async function seed(db: D1Database, n: number, at: number, ids: Map<string, string>) {
  const site = JSON.parse(await readFile(join(root, 'content/site.json'), 'utf8'))
  const consent = site.courses[COURSE].consent as string
  const newsletterConsent = site.newsletter.consent as string
  const insert = db.prepare(
    `INSERT INTO subscribers (id, email, email_normalized, first_name, course, status, timezone, next_send_at,
       source, landing_path, utm_source, utm_medium, utm_campaign,
       consent_at, consent_ip, consent_user_agent, consent_text, created_at, confirmation_sent_at, confirmed_at, updated_at,
       newsletter, newsletter_consent_at, newsletter_consent_ip, newsletter_consent_user_agent, newsletter_consent_text,
       newsletter_joined_at)
     VALUES (?1, ?2, ?2, 'Sam', '${COURSE}', 'active', '${TIMEZONE}', ?3,
       'program-page', '/cure-back-pain-program', 'newsletter', 'email', 'spring',
       ?3, ?4, ?5, ?6, ?3, ?3, ?3, ?3, 'active', ?3, ?4, ?5, ?7, ?3)`,
  )
  const history = db.prepare(
    `INSERT INTO subscriber_events (subscriber_id, type, at, data) VALUES
       (?1, 'signed_up', ?2, json_object('again', json('false'), 'source', 'program-page', 'consent_text', ?3,
                                         'round', 1, 'newsletter_consent_text', ?4)),
       (?1, 'confirmation_sent', ?2, json_object('message_id', ?5)),
       (?1, 'confirmed', ?2, '{}')`,
  )
  for (let i = 0; i < n; i += 500) {
    const rows = Array.from({ length: Math.min(500, n - i) }, (_, k) => {
      const id = crypto.randomUUID()
      const email = `y${i + k}@bench.example`
      ids.set(email, id)
      const ip = `203.0.${((i + k) >> 8) & 255}.${(i + k) & 255}`
      return [
        insert.bind(id, email, at, ip, USER_AGENT, consent, newsletterConsent),
        history.bind(id, at, consent, newsletterConsent, crypto.randomUUID()),
      ]
    })
    await db.batch(rows.flat())
  }
}

/** D1's own figure for its size (what counts against its 10 GB), from a read through the binding. */
const sizeAfter = async (db: D1Database) => (await db.prepare('SELECT 1').run()).meta.size_after as number

/** Polls the server's accepted count until it has not moved for QUIET_MS. */
async function quiet(accepted: () => number) {
  let last = accepted()
  let movedAt = performance.now()
  while (performance.now() - movedAt < QUIET_MS) {
    await sleep(100)
    const now = accepted()
    if (now !== last) {
      last = now
      movedAt = performance.now()
    }
  }
}

/** The admin API, with the bench's token. */
async function admin<T>(path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${origin}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: res.status, json: (await res.json()) as T }
}

type EventType = 'email.delivered' | 'email.opened' | 'email.clicked' | 'email.bounced' | 'email.complained'
/** One provider event to post, and the first-party click that goes with a provider click. */
interface Planned {
  type: EventType
  at: number
  email: SentRecord
  emailAt: number
  /** For a click: the /r/ path of the same link on our own site. */
  firstParty?: string
}

/** Tallies of everything the year posted, and how it was answered. */
const tally = {
  events: {} as Record<string, number>,
  answers: {} as Record<string, number>,
  /** Answers other than 2xx, with the first few bodies, so nothing is hidden. */
  refused: [] as string[],
  firstPartyClicks: 0,
  firstPartyAnswers: {} as Record<string, number>,
  eventSeconds: 0,
  stopped: new Set<string>(),
  firstEmailSeen: new Set<string>(),
}
const bump = (m: Record<string, number>, k: string, by = 1) => {
  m[k] = (m[k] ?? 0) + by
}

/** The key of an email for the draws: the same reader and email draw the same outcome every run. */
function emailKey(e: SentRecord, broadcastNo: Map<string, number>): string {
  const t = e.tags
  if (t.type === 'lesson') return `lesson-${t.lesson}`
  if (t.type === 'broadcast') return `broadcast-${broadcastNo.get(t.broadcast ?? '') ?? t.broadcast}`
  return t.type ?? 'untagged'
}

/** The /r/ link ids each email carries, from the build: lesson n's and each broadcast path's. */
type LinkIds = { lessons: string[][]; broadcasts: Record<string, string[]> }
const linkIdsIn = (html: string) =>
  [...html.matchAll(/\/r\/\{\{click\}\}\/([A-Za-z0-9_-]+)/g)].map((m) => m[1] as string)

/** The events a real list would send for these emails, sent at `emailAt` (simulated). */
async function plan(
  emails: SentRecord[],
  emailAt: (e: SentRecord) => number,
  broadcastNo: Map<string, number>,
  broadcastPath: Map<string, string>,
  links: LinkIds,
  ids: Map<string, string>,
): Promise<Planned[]> {
  const out: Planned[] = []
  for (const email of emails) {
    const to = email.to[0] ?? ''
    const key = `${to}|${emailKey(email, broadcastNo)}`
    const at = emailAt(email)
    const first = !tally.firstEmailSeen.has(to)
    tally.firstEmailSeen.add(to)
    if (first && draw(`${key}|bounced`) < RATES.bounced) {
      out.push({ type: 'email.bounced', at: at + 60_000, email, emailAt: at })
      continue
    }
    out.push({ type: 'email.delivered', at: at + 60_000, email, emailAt: at })
    if (draw(`${key}|opened`) < RATES.opened) {
      const openedAt = at + Math.round(5 + draw(`${key}|open-minute`) * 600) * 60_000
      out.push({ type: 'email.opened', at: openedAt, email, emailAt: at })
      if (draw(`${key}|clicked`) < RATES.clicked / RATES.opened) {
        const subscriber = ids.get(to)
        const t = email.tags
        const topic = t.type === 'lesson' ? `lesson:${t.course}:${t.lesson}` : `broadcast:${t.broadcast}`
        const candidates =
          t.type === 'lesson'
            ? links.lessons[Number(t.lesson) - 1]
            : t.type === 'broadcast'
              ? links.broadcasts[broadcastPath.get(t.broadcast ?? '') ?? '']
              : undefined
        const link = candidates?.[Math.floor(draw(`${key}|link`) * candidates.length)]
        const firstParty =
          subscriber && link ? `/r/${await clickToken(SIGNING_KEY, subscriber, topic, Date.now())}/${link}` : undefined
        out.push({ type: 'email.clicked', at: openedAt + 60_000, email, emailAt: at, firstParty })
      }
    }
    if (draw(`${key}|complained`) < RATES.complained)
      out.push({ type: 'email.complained', at: at + 2 * 3_600_000, email, emailAt: at })
  }
  return out
}

let messageCounter = 0
const webhook = new Webhook(WEBHOOK_SECRET)

/** Resend's payload for one event (the shape of the SDK's WebhookEventPayload). */
function payload(p: Planned) {
  const e = p.email
  const data: Record<string, unknown> = {
    email_id: e.id,
    created_at: new Date(p.emailAt).toISOString(),
    from: e.from,
    to: e.to,
    subject: e.subject,
    message_id: `<${e.id}@email.amazonses.com>`,
    tags: e.tags,
  }
  if (p.type === 'email.bounced')
    data.bounce = {
      message:
        "The recipient's email provider sent a hard bounce message: the address does not exist. Do not send to it again.",
      subType: 'General',
      type: 'Permanent',
    }
  if (p.type === 'email.clicked')
    data.click = {
      ipAddress: '203.0.113.7',
      link: `${origin}/back-pain/back-exercises/spine-exercises?utm_source=spine-health-library&utm_medium=email`,
      timestamp: new Date(p.at).toISOString(),
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)',
    }
  return { type: p.type, created_at: new Date(p.at).toISOString(), data }
}

/** Posts one event, signed as Resend (through Svix) signs it; counts the answer. */
async function post(p: Planned) {
  // Svix ids are "msg_" and 27 characters (a KSUID); a counter of the same length stands in.
  const id = `msg_${(messageCounter++).toString(36).padStart(27, '0')}`
  const body = JSON.stringify(payload(p))
  const now = new Date()
  bump(tally.events, p.type)
  let status: string
  try {
    const res = await fetch(`${origin}/api/webhooks/resend`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'svix-id': id,
        'svix-timestamp': String(Math.floor(now.getTime() / 1000)),
        'svix-signature': webhook.sign(id, now, body),
      },
      body,
    })
    const text = await res.text()
    status = String(res.status)
    if (!res.ok && tally.refused.length < 10) tally.refused.push(`${p.type} ${res.status} ${text.slice(0, 300)}`)
    if (res.ok && (p.type === 'email.bounced' || p.type === 'email.complained')) tally.stopped.add(p.email.to[0] ?? '')
  } catch (err) {
    status = `error: ${(err as Error).message}`
    if (tally.refused.length < 10) tally.refused.push(`${p.type} ${status}`)
  }
  bump(tally.answers, status)
  if (p.firstParty) {
    tally.firstPartyClicks++
    try {
      const res = await fetch(`${origin}${p.firstParty}`, { redirect: 'manual' })
      await res.arrayBuffer()
      bump(tally.firstPartyAnswers, String(res.status))
    } catch (err) {
      bump(tally.firstPartyAnswers, `error: ${(err as Error).message}`)
    }
  }
}

/**
 * Posts the events IN_FLIGHT at a time, in waves as they happen: deliveries and bounces first,
 * then opens, clicks, complaints.
 */
async function postAll(events: Planned[]) {
  const order: EventType[] = ['email.bounced', 'email.delivered', 'email.opened', 'email.clicked', 'email.complained']
  const started = performance.now()
  for (const type of order) {
    const wave = events.filter((e) => e.type === type)
    let next = 0
    await Promise.all(
      Array.from({ length: Math.min(IN_FLIGHT, wave.length) }, async () => {
        while (next < wave.length) await post(wave[next++] as Planned)
      }),
    )
  }
  tally.eventSeconds += seconds(started)
}

/** What afterYear is handed: the Worker's cron, its D1, and where the simulated year ended. */
interface YearEnd {
  /** Fires the Worker's scheduled handler with this simulated time, as the cron would. */
  tick(at: number): Promise<void>
  db: D1Database
  /** The simulated time of the last broadcast. */
  yearEnd: number
}

/**
 * The year is over: the daily 04:00 UTC cron tick four days after the last broadcast, which
 * compacts what the finished sends no longer need (recipient rows, deliveries, batch compositions)
 * and removes raw history past the retention period (none yet: a year is under its 13 months).
 * Timed, with the rows it removed.
 */
async function afterYear(_port: number, year: YearEnd): Promise<Record<string, number>> {
  // The sends happened in real time (their rows carry today's clock), the year's events in simulated
  // time ending about now: four days after the later of the two.
  const at = Math.floor((Math.max(year.yearEnd, Date.now()) + 4 * DAY) / DAY) * DAY + 4 * HOUR
  const count = async (table: string) =>
    (await year.db.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())?.n ?? 0
  const tables = ['broadcast_recipients', 'deliveries', 'lesson_batches']
  const before = await Promise.all(tables.map(count))
  const started = performance.now()
  await year.tick(at)
  const tickSeconds = seconds(started)
  const after = await Promise.all(tables.map(count))
  const figures: Record<string, number> = { retentionTickSeconds: tickSeconds }
  tables.forEach((t, i) => {
    figures[`${t}Compacted`] = (before[i] ?? 0) - (after[i] ?? 0)
  })
  console.log(
    `year: the 04:00 UTC retention tick took ${tickSeconds.toFixed(1)} s and compacted ${tables.map((t) => `${figures[`${t}Compacted`]} ${t}`).join(', ')}`,
  )
  return figures
}

/** Each table and index of the D1 database in `dir`, from a copy of its file and WAL. */
async function measure(dir: string) {
  const objects = join(dir, 'd1/miniflare-D1DatabaseObject')
  const names = (await readdir(objects)).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite')
  if (names.length !== 1) throw new Error(`expected one D1 database in ${objects}, found ${names.join(', ')}`)
  const file = join(objects, names[0] as string)
  const wal = await stat(`${file}-wal`).then(
    (s) => s.size,
    () => 0,
  )
  const onDisk = (await stat(file)).size + wal
  const sqlite3 = await sqlite3InitModule()
  sqlite3.capi.sqlite3_js_posix_create_file('/d1.sqlite', new Uint8Array(await readFile(file)))
  if (wal > 0)
    sqlite3.capi.sqlite3_js_posix_create_file('/d1.sqlite-wal', new Uint8Array(await readFile(`${file}-wal`)))
  const db = new sqlite3.oo1.DB('/d1.sqlite', 'w')
  try {
    // Without shared memory (none in WebAssembly), SQLite reads a WAL only in exclusive locking mode.
    db.exec('PRAGMA locking_mode = EXCLUSIVE')
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    const one = (sql: string) => Number(db.selectValue(sql))
    const pageSize = one('PRAGMA page_size')
    const pages = one('PRAGMA page_count')
    const free = one('PRAGMA freelist_count')
    const kinds = new Map(
      db
        .selectArrays("SELECT name, type, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index')")
        .map(([name, type, table]) => [String(name), { type: String(type), table: String(table) }]),
    )
    const objectsBySize = db
      .selectArrays(
        'SELECT name, sum(pgsize) AS bytes, count(*) AS pages FROM dbstat GROUP BY name ORDER BY bytes DESC',
      )
      .map(([name, bytes, pages]) => {
        const kind = kinds.get(String(name)) ?? { type: 'table', table: String(name) }
        const rows =
          kind.type === 'table' && !String(name).startsWith('sqlite_')
            ? one(`SELECT count(*) FROM "${String(name).replace(/"/g, '""')}"`)
            : undefined
        return {
          name: String(name),
          type: kind.type,
          table: kind.table,
          bytes: Number(bytes),
          pages: Number(pages),
          rows,
        }
      })
    return { pageSize, pages, free, bytes: pageSize * pages, onDisk, objects: objectsBySize }
  } finally {
    db.close()
  }
}

// ---------------------------------------------------------------------------------------------

const phases: Record<string, number> = {}
const t0 = performance.now()
const content = await contentWithLetters()
const { build } = await buildSite(content)
await rm(content, { recursive: true, force: true })
const letters = Object.keys(build.broadcasts)
  .filter((p) => p.startsWith('/letters/year-'))
  .sort()
if (letters.length !== BROADCASTS) throw new Error(`the build has ${letters.length} year letters, not ${BROADCASTS}`)
const links: LinkIds = {
  lessons: (build.courses[COURSE]?.lessons ?? []).map((l) => linkIdsIn(l.html)),
  broadcasts: Object.fromEntries(letters.map((p) => [p, linkIdsIn(build.broadcasts[p]?.html ?? '')])),
}

const resend = await startResendServer({ port: resendPort, keepEmails: false })
const direct = await startDirect(state, port, build, {
  ENVIRONMENT: 'local',
  SIGNING_KEY,
  PUBLIC_URL: origin,
  RESEND_API_KEY: 're_local_bench',
  RESEND_BASE_URL: resend.url,
  MAIL_REQUESTS_PER_SECOND: '1000',
  ADMIN_TOKEN: TOKEN,
  RESEND_WEBHOOK_SECRET: WEBHOOK_SECRET,
})
const db = (await direct.mf.getD1Database('DB')) as unknown as D1Database
const scheduled = await direct.mf.getWorker()
const tick = async (at: number) => {
  const result = await scheduled.scheduled({ scheduledTime: new Date(at), cron: '*/5 * * * *' })
  if (result.outcome !== 'ok') throw new Error(`the cron at ${new Date(at).toISOString()} ended ${result.outcome}`)
}
const ids = new Map<string, string>()
await seed(db, SUBSCRIBERS, YEAR_START, ids)
const seededBytes = await sizeAfter(db)
phases['build, start, seed'] = seconds(t0)
console.log(
  `year: ${fmt(SUBSCRIBERS)} subscribers seeded, ${links.lessons.length} lessons, ${BROADCASTS} letters; D1 ${fmt(seededBytes / 1e6, 1)} MB (${phases['build, start, seed']?.toFixed(1)} s)`,
)

const accepted = () => resend.stats().accepted
const broadcastNo = new Map<string, number>()
const broadcastPath = new Map<string, string>()
let logged = 0
/** The emails accepted since the last call. */
const newEmails = () => {
  const fresh = resend.sentLog(logged)
  logged += fresh.length
  return fresh
}
/** When the last of these emails was accepted (ms since the epoch). */
const lastAccepted = (emails: SentRecord[]) => emails.reduce((m, e) => Math.max(m, e.receivedAt), 0)
const sent = { lessons: 0, completions: 0, broadcasts: 0, other: 0 }
const countSent = (emails: SentRecord[]) => {
  for (const e of emails) {
    const type = e.tags.type
    if (type === 'lesson') sent.lessons++
    else if (type === 'completion') sent.completions++
    else if (type === 'broadcast') sent.broadcasts++
    else sent.other++
  }
}
const sending = { courseSeconds: 0, broadcastSeconds: 0, pauses: [] as string[] }
let d1Bytes = 0
let afterYearFigures: Record<string, number> = {}
try {
  // The course: one cron tick a simulated day until everyone has finished or was stopped.
  const courseStarted = performance.now()
  const completed = new Set<string>()
  for (let day = 0; day < 120; day++) {
    const ticked = Date.now()
    await tick(dayAt(day))
    await quiet(accepted)
    const emails = newEmails()
    if (emails.length === 0) continue
    sending.courseSeconds += (lastAccepted(emails) - ticked) / 1000
    countSent(emails)
    for (const e of emails) if (e.tags.type === 'completion') completed.add(e.to[0] ?? '')
    await postAll(await plan(emails, () => dayAt(day), broadcastNo, broadcastPath, links, ids))
    const stoppedOnly = [...tally.stopped].filter((a) => !completed.has(a)).length
    console.log(
      `year: day ${day}: ${fmt(emails.length)} emails; ${fmt(completed.size)} finished the course, ${stoppedOnly} stopped`,
    )
    if (completed.size + stoppedOnly >= SUBSCRIBERS) break
  }
  phases['course (emails and their events)'] = seconds(courseStarted)

  // 52 broadcasts, one a simulated week.
  const broadcastsStarted = performance.now()
  for (const [k, path] of letters.entries()) {
    const posted = Date.now()
    const res = await admin<{ id: string; recipients: number }>('/api/admin/broadcasts', { path, send: 'now' })
    if (res.status !== 201)
      throw new Error(`broadcast ${k + 1} was not scheduled: ${res.status} ${JSON.stringify(res.json)}`)
    const { id, recipients } = res.json
    broadcastNo.set(id, k + 1)
    broadcastPath.set(id, path)
    for (let waited = 0; ; waited += 250) {
      const b = (
        await admin<{ status: string; remaining: number; paused_reason?: string }>(`/api/admin/broadcasts/${id}`)
      ).json
      if (b.status === 'paused') {
        sending.pauses.push(`broadcast ${k + 1}: ${b.paused_reason}`)
        await admin(`/api/admin/broadcasts/${id}/resume`, {})
      }
      if (b.remaining === 0 && b.status !== 'sending') break
      if (waited > 600_000) throw new Error(`broadcast ${k + 1} did not finish in 10 minutes: ${JSON.stringify(b)}`)
      await sleep(250)
    }
    const emails = newEmails()
    const took = (lastAccepted(emails) - posted) / 1000
    sending.broadcastSeconds += took
    countSent(emails)
    const started = performance.now()
    await postAll(await plan(emails, () => broadcastAt(k), broadcastNo, broadcastPath, links, ids))
    console.log(
      `year: broadcast ${k + 1}/${BROADCASTS}: ${fmt(recipients)} recipients, ${fmt(emails.length)} emails in ${took.toFixed(1)} s, their events in ${seconds(started).toFixed(1)} s`,
    )
    // A week in the life of the list: the daily 04:00 UTC tick compacts a broadcast three days after
    // it finished, before the next one is sent, so the pages it frees are used again. (The sends run
    // in real time: the tick is four days after now.)
    if (k < BROADCASTS - 1) await tick(Math.floor((Date.now() + 4 * DAY) / DAY) * DAY + 4 * HOUR)
  }
  phases['broadcasts (emails and their events)'] = seconds(broadcastsStarted)
  const hook = performance.now()
  afterYearFigures = await afterYear(port, { tick, db, yearEnd: broadcastAt(BROADCASTS - 1) })
  phases['after the year (retention, rollup)'] = seconds(hook)
  d1Bytes = await sizeAfter(db)
} finally {
  await direct.stop()
  await resend.close()
}

const measured = performance.now()
// A database past what the WebAssembly build can hold (about 1.9 GB) still has its size reported.
const d1 = await measure(state).catch((err: Error) => {
  console.error(`year: dbstat could not read the database: ${err.message}`)
  return {
    pageSize: 0,
    pages: 0,
    free: 0,
    bytes: d1Bytes,
    onDisk: 0,
    objects: [] as Awaited<ReturnType<typeof measure>>['objects'],
  }
})
phases['measure D1'] = seconds(measured)
phases.total = seconds(t0)
phases['of which sending the course (tick to last email, summed)'] = sending.courseSeconds
phases['of which sending the broadcasts (POST to last email, summed)'] = sending.broadcastSeconds
phases['of which posting provider events and clicks'] = tally.eventSeconds

const eventCount = Object.values(tally.events).reduce((a, b) => a + b, 0)
const ok = Object.entries(tally.answers)
  .filter(([s]) => /^2\d\d$/.test(s))
  .reduce((a, [, n]) => a + n, 0)
const perSubscriber = d1Bytes / SUBSCRIBERS
const courseEmails = sent.lessons + sent.completions
console.table({
  subscribers: { value: fmt(SUBSCRIBERS) },
  'course emails (lessons + closing emails)': {
    value: `${fmt(courseEmails)} (${fmt(sent.lessons)} + ${fmt(sent.completions)})`,
  },
  'broadcast emails (52 broadcasts)': { value: fmt(sent.broadcasts) },
  ...(sent.other > 0 ? { 'other emails': { value: fmt(sent.other) } } : {}),
  'course emails/s (cron tick to last accepted, summed over the days)': {
    value: fmt(courseEmails / (sending.courseSeconds || 1)),
  },
  'broadcast emails/s (POST to last accepted, summed)': {
    value: fmt(sent.broadcasts / (sending.broadcastSeconds || 1)),
  },
  ...Object.fromEntries(
    ['email.delivered', 'email.opened', 'email.clicked', 'email.bounced', 'email.complained'].map((type) => [
      `posted ${type}`,
      { value: fmt(tally.events[type] ?? 0) },
    ]),
  ),
  'webhook answers': { value: JSON.stringify(tally.answers) },
  'webhook events/s (32 in flight, first-party clicks included in the time)': {
    value: fmt(eventCount / (tally.eventSeconds || 1)),
  },
  'first-party clicks (GET /r/…), answers': {
    value: `${fmt(tally.firstPartyClicks)} ${JSON.stringify(tally.firstPartyAnswers)}`,
  },
  'readers stopped by a bounce or a complaint': { value: fmt(tally.stopped.size) },
  ...(sending.pauses.length > 0 ? { 'guard pauses (resumed)': { value: sending.pauses.join('; ') } } : {}),
  'D1 size before the year (seeded subscribers)': { value: `${fmt(seededBytes / 1e6, 1)} MB` },
  'D1 size after the year (meta.size_after)': { value: `${fmt(d1Bytes / 1e6, 1)} MB` },
  'dbstat: pages × page size after a checkpoint, pages free': {
    value: `${fmt(d1.bytes / 1e6, 1)} MB (${fmt(d1.pages)} × ${d1.pageSize}), ${fmt(d1.free)} free`,
  },
  'files on disk (database + WAL)': { value: `${fmt(d1.onDisk / 1e6, 1)} MB` },
  'bytes per subscriber-year': { value: fmt(perSubscriber), target: '<= 5,120', ok: perSubscriber <= 5120 },
  ...Object.fromEntries(Object.entries(afterYearFigures).map(([k, v]) => [k, { value: fmt(v, 1) }])),
})
if (tally.refused.length > 0)
  console.log(`year: answers other than 2xx (first ${tally.refused.length}):\n${tally.refused.join('\n')}`)
console.table(
  Object.fromEntries(
    d1.objects.map((o) => [
      o.name,
      {
        kind: o.type === 'index' ? `index on ${o.table}` : o.type,
        MB: fmt(o.bytes / 1e6, 2),
        share: `${((o.bytes / d1.bytes) * 100).toFixed(1)}%`,
        'bytes/subscriber': fmt(o.bytes / SUBSCRIBERS),
        rows: o.rows === undefined ? '' : fmt(o.rows),
        'bytes/row': o.rows ? fmt(o.bytes / o.rows) : '',
      },
    ]),
  ),
)
console.table(Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, { seconds: v.toFixed(1) }])))
await record('year', {
  subscribers: SUBSCRIBERS,
  lessons: sent.lessons,
  completions: sent.completions,
  broadcastEmails: sent.broadcasts,
  courseEmailsPerSecond: courseEmails / (sending.courseSeconds || 1),
  broadcastEmailsPerSecond: sent.broadcasts / (sending.broadcastSeconds || 1),
  events: eventCount,
  eventsNot2xx: eventCount - ok,
  webhookEventsPerSecond: eventCount / (tally.eventSeconds || 1),
  firstPartyClicks: tally.firstPartyClicks,
  seededBytes,
  d1Bytes,
  bytesPerSubscriberYear: perSubscriber,
  ...afterYearFigures,
  ...Object.fromEntries(Object.entries(phases).map(([k, v]) => [`seconds ${k}`, v])),
  tables: Object.fromEntries(d1.objects.map((o) => [o.name, o.bytes])),
})
