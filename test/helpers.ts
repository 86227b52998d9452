import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { type AppOptions, createApp } from '../src/app'
import worker from '../src/index'
import { siteContent } from '../src/site/content'
import { kvStore, publishSite, type SiteBuild } from '../src/site/publish'
import { newsletterOf } from '../src/ui/types'

/** Publishes a build to the test's own (miniflare) CONTENT namespace. */
export const publish = (build: SiteBuild, at = new Date('2026-11-25T12:00:00Z'), kv: KVNamespace = env.CONTENT) =>
  publishSite(kvStore(kv), build, at)

/** An app that rereads the manifest on every request, so a test sees each publish at once. */
export const freshApp = (options: AppOptions = {}) =>
  createApp(siteContent({ manifestTtlMs: 0, blobCacheBytes: 1 << 20 }), options)

/** Requests a path from a fresh app against the test env (or another one). */
export const get = (path: string, init: RequestInit = {}, bindings: Env = env, options: AppOptions = {}) =>
  freshApp(options).request(`http://localhost${path}`, init, bindings)

/**
 * Text of every element matching `selector`, whitespace folded, read with the runtime's own
 * HTMLRewriter (the same parser Cloudflare uses at the edge).
 */
export async function textsOf(html: string, selector: string): Promise<string[]> {
  const texts: string[] = []
  await new HTMLRewriter()
    .on(selector, {
      element() {
        texts.push('')
      },
      text(t) {
        texts[texts.length - 1] += t.text
      },
    })
    .transform(new Response(html))
    .text()
  return texts.map(fold)
}

/** Every value of `attribute` on elements matching `selector`. */
export async function attrsOf(html: string, selector: string, attribute: string): Promise<string[]> {
  const values: string[] = []
  await new HTMLRewriter()
    .on(selector, {
      element(e) {
        const v = e.getAttribute(attribute)
        if (v !== null) values.push(v)
      },
    })
    .transform(new Response(html))
    .text()
  return values
}

/** Folds runs of whitespace (no-break spaces too) to one space and decodes the entities pages use. */
export const fold = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[\s\u00a0]+/g, ' ')
    .trim()

/** The consent wording the program's form shows, from the published build. */
export const consentText = (build: SiteBuild) => build.settings.courses['cure-back-pain-program']?.consent ?? ''
/** The newsletter's consent wording, as the build published it. */
export const newsletterConsentText = (build: SiteBuild) => newsletterOf(build.settings).consent

let ipCounter = 0
/** A client IP of its own for each signup, so the per-IP rate limit only bites where a test wants it. */
export const nextIp = () => {
  ipCounter += 1
  return `198.51.${Math.floor(ipCounter / 250) % 250}.${(ipCounter % 250) + 1}`
}

/** Options of one signup request. */
export interface SignupOptions {
  json?: boolean
  ip?: string
  headers?: Record<string, string>
  bindings?: Env
  /** What Cloudflare's edge knows of the request (its time zone, for one). */
  cf?: Record<string, unknown>
  /** What only tests set on the app (a local Turnstile). */
  app?: AppOptions
}

/** Posts a signup as a browser form (default) or as JSON, from its own client IP. */
export async function signup(fields: Record<string, unknown>, o: SignupOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { 'CF-Connecting-IP': o.ip ?? nextIp(), ...o.headers }
  let body: string
  if (o.json) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(fields)
  } else {
    headers['Content-Type'] = 'application/x-www-form-urlencoded'
    body = new URLSearchParams(fields as Record<string, string>).toString()
  }
  return get(
    '/api/subscribe',
    { method: 'POST', headers, body, redirect: 'manual', ...(o.cf ? { cf: o.cf } : {}) },
    o.bindings,
    o.app,
  )
}

/** An email as /dev/outbox.json lists it. */
export interface OutboxItem {
  id: string
  to: string
  subject: string
  headers: Record<string, string>
  html: string
  text: string
}

/** What the local outbox holds, read the way a developer would: GET /dev/outbox.json. */
export async function outbox(): Promise<OutboxItem[]> {
  const res = await get('/dev/outbox.json')
  if (res.status !== 200) throw new Error(`/dev/outbox.json answered ${res.status}`)
  return ((await res.json()) as { emails: OutboxItem[] }).emails
}

/**
 * The emails to one address once the MAIL queue has settled: waits until `count` arrived (or
 * 5 s passed), then a little longer to catch any extra one that should not be there.
 */
export async function mailsTo(to: string, count = 1): Promise<OutboxItem[]> {
  const mine = async () => (await outbox()).filter((m) => m.to === to)
  const deadline = Date.now() + 5_000
  while ((await mine()).length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
  await new Promise((r) => setTimeout(r, 150))
  return mine()
}

/** The path of the first link of a kind (confirm, unsubscribe, preferences) in an email's text. */
export function linkIn(email: { text: string }, kind: 'confirm' | 'unsubscribe' | 'preferences'): string {
  const match = new RegExp(`https?://[^/\\s]+(/${kind}/[A-Za-z0-9_.-]+)`).exec(email.text)
  if (!match?.[1]) throw new Error(`no ${kind} link in: ${email.text}`)
  return match[1]
}

/** A subscriber row straight from D1, by address. */
export const subscriberByEmail = (email: string) =>
  env.DB.prepare('SELECT * FROM subscribers WHERE email_normalized = ?')
    .bind(email.trim().toLowerCase())
    .first<Record<string, unknown> & { id: string; status: string }>()

/** How many subscriber rows exist. */
export const subscriberCount = async () =>
  (await env.DB.prepare('SELECT count(*) AS n FROM subscribers').first<{ n: number }>())?.n ?? 0

/**
 * Active subscribers straight into D1 (as if each had confirmed), lesson 1 due at `dueAt`:
 * the factory for tests about the course rather than about signing up.
 */
export async function makeActiveSubscribers(n: number, o: { prefix: string; dueAt: number; timezone?: string }) {
  const insert = env.DB.prepare(
    `INSERT INTO subscribers (id, email, email_normalized, course, status, timezone, next_send_at,
       consent_at, consent_text, created_at, confirmed_at, updated_at)
     VALUES (?1, ?2, ?2, 'cure-back-pain-program', 'active', ?3, ?4, ?4, 'test consent', ?4, ?4, ?4)`,
  )
  const ids = Array.from({ length: n }, () => crypto.randomUUID())
  for (let i = 0; i < n; i += 500)
    await env.DB.batch(
      ids
        .slice(i, i + 500)
        .map((id, k) => insert.bind(id, `${o.prefix}${i + k}@example.com`, o.timezone ?? 'UTC', o.dueAt)),
    )
  return ids
}

/**
 * Waits until the bulk queue has settled: no lesson batch half-sent, no due subscriber still
 * leased, no broadcast recipient queued or in a provider batch (retries included).
 */
export async function lessonsDrained(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const busy = await env.DB.prepare(
      `SELECT (SELECT count(*) FROM subscribers WHERE lease_until IS NOT NULL AND status = 'active')
            + (SELECT count(*) FROM deliveries WHERE status = 'sending')
            + (SELECT count(*) FROM broadcast_recipients WHERE status IN ('queued', 'sending')) AS n`,
    ).first<{ n: number }>()
    if (!busy?.n) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`the lessons queue did not drain within ${timeoutMs / 1000} s`)
}

/** One subscriber row straight into D1, with any columns overridden. */
export async function makeSubscriber(overrides: Record<string, string | number | null> = {}): Promise<string> {
  const id = (overrides.id as string | undefined) ?? crypto.randomUUID()
  const email = (overrides.email as string | undefined) ?? `${id}@example.com`
  const row: Record<string, string | number | null> = {
    id,
    email,
    email_normalized: email.toLowerCase(),
    course: 'cure-back-pain-program',
    status: 'active',
    timezone: 'UTC',
    consent_at: 1_700_000_000_000,
    consent_text: 'test consent',
    created_at: 1_700_000_000_000,
    updated_at: 1_700_000_000_000,
    ...overrides,
  }
  const columns = Object.keys(row)
  await env.DB.prepare(`INSERT INTO subscribers (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
    .bind(...Object.values(row))
    .run()
  return id
}

/** Publishes the real site as a publisher who lists `origin` in signupOrigins would. */
export async function publishWithPartner(build: SiteBuild, origin: string) {
  const listed = structuredClone(build)
  listed.settings.signupOrigins = [origin]
  await publish(listed)
}

/** Runs the cron as the runtime would, at a simulated time, and waits for the lesson queue to drain. */
export async function cronAt(scheduledTime: number) {
  const ctx = createExecutionContext()
  await worker.scheduled(createScheduledController({ scheduledTime, cron: '*/5 * * * *' }), env, ctx)
  await waitOnExecutionContext(ctx)
  await lessonsDrained()
}

/** The admin token the tests use (32 characters or more, as the admin requires). */
export const ADMIN_TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'

/** A call to the admin API with the test token and a JSON body, as a marketer's tool makes it. */
export const adminApi =
  (bindings: Env) =>
  (path: string, method = 'GET', body?: unknown) =>
    get(
      path,
      {
        method,
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      bindings,
    )

/** Signs in to the dashboard from a client IP of its own; returns the session cookie to send back. */
export async function adminSession(bindings: Env, token = ADMIN_TOKEN): Promise<string> {
  const res = await get(
    '/admin/sign-in',
    {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'CF-Connecting-IP': nextIp() },
      body: new URLSearchParams({ token }).toString(),
    },
    bindings,
  )
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`)
  return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
}
