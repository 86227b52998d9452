import { env } from 'cloudflare:workers'
import * as v from 'valibot'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { personExportAnswer } from '../src/admin/schemas'
import {
  consentText,
  get,
  lessonsDrained,
  linkIn,
  mailsTo,
  newsletterConsentText,
  type OutboxItem,
  publish,
  signup,
  subscriberByEmail,
} from './helpers'
import { deliver, providerEvent } from './support/resend-webhook'

const TOKEN = 'admin-token-for-tests-only-not-a-secret-0123'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN }
const consent = consentText(inject('siteBuild'))
const newsletter = newsletterConsentText(inject('siteBuild'))
const api = (path: string, method = 'GET') =>
  get(path, { method, headers: { Authorization: `Bearer ${TOKEN}` } }, admin)

beforeAll(async () => {
  await publish(inject('siteBuild'))
})

/** An email as the local outbox kept it, with the tags it went out with. */
type Sent = OutboxItem & { tags: { name: string; value: string }[] }
/** The tags an email went out with, as Resend echoes them in its webhooks (`data.tags`). */
const echoed = (mail: Sent) => Object.fromEntries(mail.tags.map((t) => [t.name, t.value]))

/** A time as every admin answer gives it: ISO 8601 in UTC. */
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** Every time in an answer (keys `at`, `…_at`, `…_until`) with where it is, at any depth. */
function timesIn(value: unknown, path = ''): [string, unknown][] {
  if (Array.isArray(value)) return value.flatMap((x, i) => timesIn(x, `${path}[${i}]`))
  if (typeof value !== 'object' || value === null) return []
  return Object.entries(value).flatMap(([k, x]) => [
    ...(/^(at|\w+_at|\w+_until)$/.test(k) ? [[`${path}.${k}`, x] as [string, unknown]] : []),
    ...timesIn(x, `${path}.${k}`),
  ])
}

/** Every text value in every table, to look for the address anywhere. */
async function everything(): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all<{ name: string }>()
  let text = ''
  for (const { name } of tables.results)
    text += JSON.stringify((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results)
  return text.toLowerCase()
}

describe('a person asking what is held about them', () => {
  it('gets every subscription with its consent, history and emails as JSON: times in ISO 8601, data as objects', async () => {
    await signup({ email: 'Gdpr.Export@example.com', consent, name: 'Ada' }, { json: true })
    await mailsTo('Gdpr.Export@example.com')
    const id = (await subscriberByEmail('gdpr.export@example.com'))?.id ?? ''
    // Resend reports the confirmation delivered, with the tags it was sent with.
    const [confirmation] = (await mailsTo('Gdpr.Export@example.com')) as Sent[]
    const tags = echoed(confirmation as Sent)
    expect(tags).toEqual({ type: 'confirmation' })
    const reported = await deliver({
      ...providerEvent('email.delivered', 'gdpr.export@example.com', { tags }),
      created_at: '2026-11-02T08:00:00.000Z',
    })
    expect(await reported.json()).toEqual({ status: 'recorded' })
    const res = await api('/api/admin/people/gdpr.export@example.com')
    expect(res.status).toBe(200)
    // The answer has the shape the OpenAPI document gives, no field more or less.
    const body = v.parse(personExportAnswer, await res.json())
    expect(body.subscriptions).toHaveLength(1)
    expect(body.subscriptions[0]).toMatchObject({ consent_text: consent, first_name: 'Ada', tags: [] })
    expect(body.history.map((h) => h.type)).toEqual(['signed_up', 'confirmation_sent'])
    expect(body.history.every((h) => typeof h.data === 'object' && h.data !== null)).toBe(true)
    expect(body.emails.map((e) => e.subject)).toEqual(['Please confirm: The cure back pain program'])
    expect(body.received).toEqual([
      { subscriber_id: id, email: 'confirmation', sent_at: '2026-11-02T08:00:00.000Z', events: ['delivered'] },
    ])
    const times = timesIn(body)
    expect(times.length).toBeGreaterThan(8)
    for (const [where, time] of times) if (time !== null) expect(time, where).toMatch(ISO)
    const at = body.subscriptions[0]?.consent_at ?? ''
    expect(Math.abs(Date.parse(at) - Date.now())).toBeLessThan(60_000)
  })

  it('is described in the OpenAPI document: every list, its fields and ISO 8601 times', async () => {
    const doc = (await (await get('/api/openapi.json')).json()) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content: Record<string, { schema: { $ref: string } }> }> }>
      >
      components: { schemas: Record<string, JsonSchema> }
    }
    const ref = doc.paths['/api/admin/people/{email}']?.get?.responses['200']?.content['application/json']?.schema.$ref
    const schema = doc.components.schemas[ref?.split('/').pop() ?? ''] as JsonSchema
    expect(Object.keys(schema.properties ?? {})).toEqual([
      'email',
      'subscriptions',
      'history',
      'deliveries',
      'newsletter',
      'clicks',
      'received',
      'emails',
    ])
    const item = (list: string) => schema.properties?.[list]?.items as JsonSchema
    expect(item('subscriptions').properties?.consent_at).toMatchObject({ type: 'string', format: 'date-time' })
    expect(item('history').properties?.data).toMatchObject({ type: 'object' })
    expect(item('newsletter').required).toEqual(expect.arrayContaining(['broadcast_id', 'path', 'status', 'sent_at']))
    expect(item('received').properties?.sent_at).toMatchObject({ type: 'string', format: 'date-time' })
    expect(item('received').properties?.events).toMatchObject({ type: 'array' })
    expect(item('subscriptions').properties?.last_click_at).toBeDefined()
  })
})

/** The little of JSON Schema the test reads. */
interface JsonSchema {
  type?: string
  format?: string
  required?: string[]
  properties?: Record<string, JsonSchema>
  items?: JsonSchema
}

describe('a person asking to be erased', () => {
  it('leaves no trace of the address in any table, and is never stored or mailed again', async () => {
    await signup({ email: 'Erase.Me@example.com', consent, name: 'Zephyrine', newsletter }, { json: true })
    const [mail] = await mailsTo('Erase.Me@example.com')
    await get(linkIn(mail as { text: string }, 'confirm'), { method: 'POST' })
    const id = (await subscriberByEmail('erase.me@example.com'))?.id
    // A broadcast reached them: its recipient row names them too.
    await get(
      '/api/admin/broadcasts',
      {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ path: '/letters/welcome', send: 'now' }),
      },
      admin,
    )
    await lessonsDrained()
    // Resend reports a soft bounce of it, with the tags it was sent with: kept for the guard too.
    const letter = ((await mailsTo('Erase.Me@example.com', 2)) as Sent[]).find((m) => echoed(m).type === 'broadcast')
    const tags = echoed(letter as Sent)
    expect(tags).toMatchObject({ type: 'broadcast', subscriber: id })
    const bounced = await deliver(
      providerEvent('email.bounced', 'erase.me@example.com', { tags, bounce: { type: 'Transient' } }),
    )
    expect(await bounced.json()).toEqual({ status: 'recorded' })
    const exported = v.parse(personExportAnswer, await (await api('/api/admin/people/erase.me@example.com')).json())
    expect(exported.received).toEqual([
      {
        subscriber_id: id,
        email: `broadcast:${tags.broadcast}`,
        sent_at: expect.stringMatching(ISO),
        events: ['bounced'],
      },
    ])
    const num = exported.subscriptions[0]?.num
    expect(num).toBeGreaterThan(0)
    expect(exported.newsletter).toEqual([
      expect.objectContaining({ path: '/letters/welcome', status: 'sent', sent_at: expect.stringMatching(ISO) }),
    ])
    expect(exported.subscriptions[0]).toMatchObject({
      newsletter: 'active',
      newsletter_joined_at: expect.stringMatching(ISO),
      confirmed_at: expect.stringMatching(ISO),
    })
    // Failed jobs about the person, kept as dead letters: a webhook with their details, a closing email.
    const keep = env.DB.prepare('INSERT INTO dead_letters (queue, body, attempts, received_at) VALUES (?, ?, 9, 0)')
    await env.DB.batch([
      keep.bind(
        'spine-exercises-mail-dlq',
        JSON.stringify({ kind: 'webhook', data: { email: 'Erase.Me@example.com', first_name: 'Zephyrine' } }),
      ),
      keep.bind('spine-exercises-mail-dlq', JSON.stringify({ kind: 'completion', subscriberId: id, batchKey: 'b' })),
      keep.bind('spine-exercises-mail-dlq', JSON.stringify({ kind: 'completion', subscriberId: 'someone-else' })),
    ])
    expect(await everything()).toContain('erase.me@example.com')

    const res = await api('/api/admin/people/erase.me@example.com', 'DELETE')
    expect(await res.json()).toEqual({ erased: 1, suppressed: true })
    expect(await everything()).not.toContain('erase.me@example.com')
    expect(await everything()).not.toContain('zephyrine')
    expect(await everything()).not.toContain(id)
    // The compact tables name the person by number: none of their rows is left either.
    const numbered = await env.DB.prepare(
      `SELECT (SELECT count(*) FROM receipts WHERE subscriber = ?1) + (SELECT count(*) FROM link_clicks WHERE subscriber = ?1)
         + (SELECT count(*) FROM trouble WHERE subscriber = ?1) AS n`,
    )
      .bind(num)
      .first<{ n: number }>()
    expect(numbered?.n).toBe(0)
    const left = await env.DB.prepare('SELECT body FROM dead_letters').all<{ body: string }>()
    expect(left.results.map((r) => JSON.parse(r.body).subscriberId)).toEqual(['someone-else'])

    const again = await signup({ email: 'erase.me@example.com', consent }, { json: true })
    expect(again.status).toBe(202)
    expect(await subscriberByEmail('erase.me@example.com')).toBeNull()
    expect(await mailsTo('Erase.Me@example.com', 0)).toEqual([])
  })

  it('refuses an address that is not one with 400 naming it', async () => {
    const res = await api('/api/admin/people/not-an-address', 'DELETE')
    expect(res.status).toBe(400)
    expect(Object.keys(((await res.json()) as { error: { fields: object } }).error.fields)).toContain('email')
  })
})
