import { createHash, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

/** One email as the server received it, in Resend's wire format (recipient lists always arrays). */
export type SentEmail = {
  from: string
  to: string[]
  subject: string
  html?: string
  text?: string
  headers?: Record<string, string>
  tags?: { name: string; value: string }[]
  reply_to?: string[]
  cc?: string[]
  bcc?: string[]
}

/** An email the server accepted (answered with an id), recorded exactly once. */
export type AcceptedEmail = {
  id: string
  receivedAt: number
  idempotencyKey?: string
  batch: boolean
  email: SentEmail
}

/** Chaos settings; one PRNG draw per API request picks 429, then 500, then drop, by cumulative rate. */
export type Faults = {
  rate429?: number
  rate500?: number
  rateDrop?: number
  dropAfterAccept?: boolean
  retryAfterSeconds?: number
  seed?: number
  ratePerSecond?: number
}

/** Counters over API requests only, so polling the control endpoints does not skew them. */
export type Stats = {
  requests: number
  accepted: number
  byStatus: Record<string, number>
  dropped: number
  /** Accepted emails by their `type` tag (lesson, completion, broadcast…): a test counts its own. */
  acceptedByType: Record<string, number>
}

/**
 * One accepted email as the sent log remembers it: what Resend's webhooks tell about an email
 * (its id, sender, recipients, subject and tags, the tags as `{name: value}` the way the webhooks
 * echo them), without its body.
 */
export type SentRecord = {
  id: string
  receivedAt: number
  from: string
  to: string[]
  subject: string
  tags: Record<string, string>
}

/** Options of the server. */
export type ResendServerOptions = {
  port?: number
  host?: string
  /**
   * Keep every accepted email whole, for `accepted()` (the default). A run of hundreds of thousands
   * of emails turns it off: `accepted()` is then empty, and `sentLog()` and `stats()` still count.
   */
  keepEmails?: boolean
}

/** A running stand-in for Resend's sending API. */
export type ResendServer = {
  url: string
  port: number
  close(): Promise<void>
  accepted(): AcceptedEmail[]
  /** Counters only: cheap to poll while thousands of emails arrive. */
  stats(): Stats
  /**
   * Every accepted email from the `from`-th on (0: all), in the order accepted, without bodies.
   * Kept compactly (each address, sender, subject and tag set stored once), so a year of mail fits.
   */
  sentLog(from?: number): SentRecord[]
  reset(): void
  setFaults(f: Faults): void
}

type Reply = { status: number; body: unknown; headers?: Record<string, string> }

const MAX_BODY = 5 * 1024 * 1024
const TAG_PART = /^[A-Za-z0-9_-]{1,256}$/

const fail = (status: number, name: string, message: string): Reply => ({
  status,
  body: { statusCode: status, name, message },
})
const invalid = (message: string) => fail(422, 'validation_error', message)
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0
// Resend takes a single address or a list for every recipient field.
const addresses = (v: unknown): string[] | undefined =>
  isText(v) ? [v] : Array.isArray(v) && v.every(isText) ? [...v] : undefined

// Deterministic, so a chaos test that fails can be replayed with the same seed.
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const isString = (v: unknown) => (typeof v === 'string' ? v : undefined)
// Validators of the optional fields; each answers the value to record, or undefined when it is invalid.
const OPTIONAL: Record<string, (v: unknown) => unknown> = {
  html: isString,
  text: isString,
  reply_to: addresses,
  cc: addresses,
  bcc: addresses,
  headers: (v) =>
    v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((h) => typeof h === 'string')
      ? { ...v }
      : undefined,
  // Resend refuses tag names and values outside ASCII letters, digits, '_' and '-'.
  tags: (v) =>
    Array.isArray(v) && v.every((t) => [t?.name, t?.value].every((s) => typeof s === 'string' && TAG_PART.test(s)))
      ? v.map(({ name, value }) => ({ name, value }))
      : undefined,
}

/** Checks one email the way Resend's API does; returns it normalised, or the error message. */
function parseEmail(raw: unknown): SentEmail | string {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return 'Each email must be a JSON object.'
  const e = raw as Record<string, unknown>
  for (const field of ['from', 'to', 'subject']) if (e[field] == null) return `Missing \`${field}\` field.`
  const to = addresses(e.to)
  if (!isText(e.from)) return 'Invalid `from` field.'
  if (!to?.length || to.length > 50) return 'Invalid `to` field: expected 1 to 50 recipients.'
  if (typeof e.subject !== 'string') return 'Invalid `subject` field.'
  if (e.html == null && e.text == null) return 'Missing `html` or `text` field.'
  const email: SentEmail = { from: e.from, to, subject: e.subject }
  for (const [field, check] of Object.entries(OPTIONAL)) {
    if (e[field] == null) continue
    const value = check(e[field])
    if (value === undefined) return `Invalid \`${field}\` field.`
    Object.assign(email, { [field]: value })
  }
  return email
}

// Reads the whole body but keeps at most MAX_BODY, so an oversized upload is drained, not cut mid-write.
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size <= MAX_BODY) chunks.push(chunk)
  }
  return size > MAX_BODY ? undefined : Buffer.concat(chunks)
}

const parseJson = (body: Buffer): { json: unknown } | undefined => {
  try {
    return { json: JSON.parse(body.toString('utf8')) }
  } catch {
    return undefined
  }
}

/** Each distinct value once, and a number for it: a log of many emails to few senders stays small. */
class Interned<T> {
  values: T[] = []
  private index = new Map<string, number>()
  of(key: string, value: () => T): number {
    let i = this.index.get(key)
    if (i === undefined) {
      i = this.values.push(value()) - 1
      this.index.set(key, i)
    }
    return i
  }
}

/** The sent log: one id, time, recipient list and envelope (sender, subject, tags) number per email. */
class SentLog {
  private ids: string[] = []
  private at: number[] = []
  private to: number[] = []
  private envelope: number[] = []
  private recipients = new Interned<string[]>()
  private envelopes = new Interned<Omit<SentRecord, 'id' | 'receivedAt' | 'to'>>()

  add(id: string, receivedAt: number, e: SentEmail) {
    const tags = Object.fromEntries((e.tags ?? []).map((t) => [t.name, t.value]))
    this.ids.push(id)
    this.at.push(receivedAt)
    this.to.push(this.recipients.of(e.to.join('\n'), () => [...e.to]))
    this.envelope.push(
      this.envelopes.of(JSON.stringify([e.from, e.subject, tags]), () => ({ from: e.from, subject: e.subject, tags })),
    )
  }

  read(from: number): SentRecord[] {
    const out: SentRecord[] = []
    for (let i = Math.max(0, from); i < this.ids.length; i++) {
      const envelope = this.envelopes.values[this.envelope[i] as number] as Omit<SentRecord, 'id' | 'receivedAt' | 'to'>
      out.push({
        id: this.ids[i] as string,
        receivedAt: this.at[i] as number,
        from: envelope.from,
        to: [...(this.recipients.values[this.to[i] as number] as string[])],
        subject: envelope.subject,
        tags: { ...envelope.tags },
      })
    }
    return out
  }

  get length() {
    return this.ids.length
  }
}

/** Starts the server on host (default 127.0.0.1) and port (default 0, an ephemeral one). */
export async function startResendServer(options: ResendServerOptions = {}): Promise<ResendServer> {
  const { port = 0, host = '127.0.0.1', keepEmails = true } = options
  let emails: AcceptedEmail[] = []
  let log = new SentLog()
  // A key keeps the fingerprint of the request it first succeeded with, and that response, to replay.
  let keys = new Map<string, { fingerprint: string; reply: Reply }>()
  let faults: Faults = {}
  let random = mulberry32(1)
  let stats: Stats = { requests: 0, accepted: 0, byStatus: {}, dropped: 0, acceptedByType: {} }
  let window = { second: 0, count: 0 }

  const setFaults = (f: Faults) => {
    faults = { ...f }
    random = mulberry32(f.seed ?? 1)
  }
  const reset = () => {
    emails = []
    log = new SentLog()
    keys = new Map()
    stats = { requests: 0, accepted: 0, byStatus: {}, dropped: 0, acceptedByType: {} }
    window = { second: 0, count: 0 }
    setFaults({})
  }

  const accept = (list: SentEmail[], batch: boolean, key: string | undefined) =>
    list.map((email) => {
      const id = randomUUID()
      const receivedAt = Date.now()
      if (keepEmails) emails.push({ id, receivedAt, ...(key ? { idempotencyKey: key } : {}), batch, email })
      log.add(id, receivedAt, email)
      const type = email.tags?.find((t) => t.name === 'type')?.value ?? 'untagged'
      stats.acceptedByType[type] = (stats.acceptedByType[type] ?? 0) + 1
      return { id }
    })

  // Auth, idempotency, validation and recording: what Resend does when nothing goes wrong.
  function handle(req: IncomingMessage, path: string, body: Buffer): Reply {
    const auth = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')
    if (!auth?.[1]) return fail(401, 'missing_api_key', 'Missing API key in the authorization header.')
    if (!auth[1].startsWith('re_')) return fail(403, 'invalid_api_key', 'API key is invalid')
    const key = req.headers['idempotency-key']?.toString()
    if (key !== undefined && (key.length === 0 || key.length > 256)) {
      return fail(400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.')
    }
    // Resend compares the whole request, so the path is part of the fingerprint too.
    const fingerprint = createHash('sha256').update(`${path}\n`).update(body).digest('hex')
    const seen = key ? keys.get(key) : undefined
    if (seen?.fingerprint === fingerprint) return seen.reply
    if (seen) {
      return fail(409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload.')
    }
    const parsed = parseJson(body)
    if (!parsed) return fail(400, 'invalid_request', 'The request body is not valid JSON.')
    let reply: Reply
    if (path === '/emails') {
      const email = parseEmail(parsed.json)
      if (typeof email === 'string') return invalid(email)
      reply = { status: 200, body: accept([email], false, key)[0] }
    } else {
      const list = parsed.json
      if (!Array.isArray(list)) return invalid('The batch body must be a JSON array of emails.')
      if (list.length === 0) return invalid('The batch must contain at least 1 email.')
      if (list.length > 100) return invalid(`Too many emails in batch: ${list.length}, the maximum is 100.`)
      const checked = list.map(parseEmail)
      const errors = checked.flatMap((e, index) => (typeof e === 'string' ? [{ index, message: e }] : []))
      const valid = checked.filter((e) => typeof e !== 'string')
      // The SDK sends x-batch-validation: strict unless told otherwise; strict refuses the whole batch.
      const permissive = req.headers['x-batch-validation'] === 'permissive'
      if (!permissive && errors[0]) return invalid(`emails[${errors[0].index}]: ${errors[0].message}`)
      const data = accept(valid, true, key)
      reply = { status: 200, body: permissive ? { data, errors } : { data } }
    }
    // Only successes are remembered, so a request refused or faulted can be retried under its key.
    if (key) keys.set(key, { fingerprint, reply })
    return reply
  }

  // Faults come before auth and validation, as a provider's edge limits and fails before its API reads the
  // request. Answers undefined when the connection is to be dropped.
  function api(req: IncomingMessage, path: string, body: Buffer): Reply | undefined {
    const draw = random()
    const second = Math.floor(Date.now() / 1000)
    window = window.second === second ? { second, count: window.count + 1 } : { second, count: 1 }
    const limited = (seconds: number) => ({
      ...fail(429, 'rate_limit_exceeded', 'Too many requests. Please slow down.'),
      headers: { 'retry-after': `${seconds}` },
    })
    if (faults.ratePerSecond !== undefined && window.count > faults.ratePerSecond) return limited(1)
    const { rate429 = 0, rate500 = 0, rateDrop = 0 } = faults
    if (draw < rate429) return limited(faults.retryAfterSeconds ?? 1)
    if (draw < rate429 + rate500) return fail(500, 'internal_server_error', 'An unexpected error occurred.')
    if (draw >= rate429 + rate500 + rateDrop) return handle(req, path, body)
    if (faults.dropAfterAccept) handle(req, path, body)
    return undefined
  }

  function control(route: string, body: Buffer): Reply {
    if (route === 'GET /__control/emails') return { status: 200, body: { emails } }
    if (route === 'GET /__control/stats') return { status: 200, body: { ...stats, accepted: log.length } }
    if (route === 'POST /__control/reset') {
      reset()
      return { status: 200, body: { ok: true } }
    }
    if (route !== 'POST /__control/faults') return fail(404, 'not_found', `No route for ${route}.`)
    const f = parseJson(body)?.json
    if (!f || typeof f !== 'object' || Array.isArray(f)) {
      return fail(400, 'invalid_request', 'Expected a Faults object.')
    }
    setFaults(f)
    return { status: 200, body: { faults } }
  }

  const server = createServer(async (req, res) => {
    const route = `${req.method} ${new URL(req.url ?? '/', 'http://localhost').pathname}`
    const path = route.slice(route.indexOf(' ') + 1)
    const isApi = route === 'POST /emails' || route === 'POST /emails/batch'
    const body = await readBody(req).catch(() => null)
    // The client went away mid-body; there is nobody left to answer.
    if (body === null) return void req.socket.destroy()
    if (isApi) stats.requests++
    const reply = !body
      ? fail(413, 'payload_too_large', 'The request body is larger than 5 MB.')
      : isApi
        ? api(req, path, body)
        : control(route, body)
    if (!reply) {
      stats.dropped++
      return void req.socket.destroy()
    }
    if (isApi) stats.byStatus[reply.status] = (stats.byStatus[reply.status] ?? 0) + 1
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers })
    res.end(JSON.stringify(reply.body))
  })

  // once() rejects on 'error', e.g. a port already in use.
  await once(server.listen(port, host), 'listening')
  const bound = (server.address() as AddressInfo).port
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    // Keep-alive sockets from fetch would hold close() open, so they are cut too.
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
    accepted: () => structuredClone(emails),
    stats: () => ({ ...structuredClone(stats), accepted: log.length }),
    sentLog: (from = 0) => log.read(from),
    reset,
    setFaults,
  }
}

// Run directly: `npx tsx test/support/resend-server.ts --port 3030 [--host 0.0.0.0]`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '3030' }, host: { type: 'string' } } })
  const server = await startResendServer({ port: Number(values.port), host: values.host })
  console.log(server.url)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void server.close().then(() => process.exit(0)))
  }
}
