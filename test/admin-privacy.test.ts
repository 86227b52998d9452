import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import {
  consentText,
  get,
  lessonsDrained,
  linkIn,
  mailsTo,
  newsletterConsentText,
  publish,
  signup,
  subscriberByEmail,
} from './helpers'

const TOKEN = 'admin-token-for-tests-only'
const admin: Env = { ...env, ADMIN_TOKEN: TOKEN }
const consent = consentText(inject('siteBuild'))
const newsletter = newsletterConsentText(inject('siteBuild'))
const api = (path: string, method = 'GET') =>
  get(path, { method, headers: { Authorization: `Bearer ${TOKEN}` } }, admin)

beforeAll(async () => {
  await publish(inject('siteBuild'))
})

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
  it('gets every subscription with its consent, history and emails as JSON', async () => {
    await signup({ email: 'Gdpr.Export@example.com', consent, name: 'Ada' }, { json: true })
    await mailsTo('Gdpr.Export@example.com')
    const res = await api('/api/admin/people/gdpr.export@example.com')
    const body = (await res.json()) as {
      subscriptions: { consent_text: string; first_name: string }[]
      history: { type: string }[]
      emails: { subject: string }[]
    }
    expect(body.subscriptions).toHaveLength(1)
    expect(body.subscriptions[0]).toMatchObject({ consent_text: consent, first_name: 'Ada' })
    expect(body.history.map((h) => h.type)).toEqual(['signed_up', 'confirmation_sent'])
    expect(body.emails.map((e) => e.subject)).toEqual(['Please confirm: The cure back pain program'])
  })
})

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
    const exported = (await (await api('/api/admin/people/erase.me@example.com')).json()) as {
      newsletter: { path: string; status: string }[]
    }
    expect(exported.newsletter).toEqual([expect.objectContaining({ path: '/letters/welcome', status: 'sent' })])
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
