import { Hono } from 'hono/tiny'
import type { SiteContent } from '../site/content'
import { renderPage } from '../ui/page'
import { isLocal } from './config'
import { getOutboxEmail, listOutbox, type OutboxEmail } from './outbox'

/** The outbox is shown only where it is the mailer: a local run without RESEND_API_KEY. */
const outboxInUse = (env: Env) => isLocal(env) && !env.RESEND_API_KEY

const Email = ({ e }: { e: OutboxEmail }) => (
  <article class="email" aria-labelledby={`email-${e.id}`}>
    <h2 id={`email-${e.id}`}>{e.subject}</h2>
    <dl>
      <dt>To</dt>
      <dd>{e.to}</dd>
      <dt>From</dt>
      <dd>{e.from}</dd>
      <dt>Sent</dt>
      <dd>
        <time datetime={new Date(e.createdAt).toISOString()}>{new Date(e.createdAt).toISOString()}</time>
      </dd>
      {Object.entries(e.headers).map(([name, value]) => (
        <>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </>
      ))}
    </dl>
    <h3>HTML part</h3>
    <iframe title={`HTML part of ${e.subject}`} src={`/dev/outbox/${e.id}/html`} sandbox="" width="100%" height="600" />
    <h3>Text part</h3>
    <pre>{e.text}</pre>
  </article>
)

/**
 * /dev/outbox: the emails a local run "sent", with their headers, HTML (in a sandboxed frame) and
 * text; /dev/outbox.json: the same for tests and scripts. Elsewhere these paths do not exist.
 */
export function outboxRoutes(content: SiteContent) {
  const app = new Hono<{ Bindings: Env }>()

  app.use('/dev/*', async (c, next) => {
    if (!outboxInUse(c.env)) return c.notFound()
    await next()
  })

  app.get('/dev/outbox.json', async (c) => c.json({ emails: await listOutbox(c.env.DB) }))

  app.get('/dev/outbox', async (c) => {
    const settings = (await content.manifest(c.env.CONTENT)).settings
    const emails = await listOutbox(c.env.DB)
    const body = (
      <>
        <h1>Outbox</h1>
        <p>
          Emails this local run would have sent ({emails.length}). Set RESEND_API_KEY to send them for real.
          <a href="/dev/outbox.json"> As JSON</a>.
        </p>
        {emails.map((e) => (
          <Email e={e} />
        ))}
      </>
    )
    return renderPage(settings, { title: 'Outbox', description: 'Emails of this local run.', frames: true }, body)
  })

  app.get('/dev/outbox/:id/html', async (c) => {
    const email = await getOutboxEmail(c.env.DB, c.req.param('id'))
    if (!email) return c.notFound()
    return c.html(email.html, 200, {
      // Email HTML carries inline styles; it may load nothing and run nothing, and only we may frame it.
      'Content-Security-Policy':
        "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; frame-ancestors 'self'",
      'Cache-Control': 'no-store',
    })
  })

  return app
}
