import type { Child } from 'hono/jsx'
import { pageCsp } from '../lib/security'
import { Layout } from './layout'
import { SIGNUP_SCRIPT_PATH } from './signup-form'
import { siteCss } from './styles'
import type { PublishedSettings } from './types'

let styleHash: Promise<string> | undefined

/** CSP source of the stylesheet this Worker was deployed with (computed once). */
const bundledStyleSrc = () => {
  styleHash ??= crypto.subtle
    .digest('SHA-256', new TextEncoder().encode(siteCss))
    .then((d) => `'sha256-${btoa(String.fromCharCode(...new Uint8Array(d)))}'`)
  return styleHash
}

/** What a page rendered by the Worker (not pre-rendered) says about itself. */
export interface DynamicPage {
  title: string
  description: string
  status?: number
  /** Pages with a signup form fill in the reader's time zone with the one inline script. */
  withFormScript?: boolean
  /** Pages that frame our own URLs (the outbox shows each email's HTML in a sandboxed frame). */
  frames?: boolean
  /** The embeddable form: no site chrome, and framable by these origins. */
  embed?: { framableBy: string[] }
  /** A header of its own instead of the readers' chrome (the dashboard's). */
  header?: Child
}

/**
 * A page the Worker renders per request (confirm, unsubscribe, preferences, form errors), in the
 * site's layout. Never cached and never indexed: such pages are about one person.
 */
export async function renderPage(settings: PublishedSettings, page: DynamicPage, body: Child): Promise<Response> {
  const style = await bundledStyleSrc()
  const html = await (
    <Layout
      site={settings}
      css={siteCss}
      nav={settings.nav}
      title={page.title}
      description={page.description}
      script={page.withFormScript ? SIGNUP_SCRIPT_PATH : undefined}
      turnstile={Boolean(page.withFormScript && settings.turnstileSiteKey)}
      bare={Boolean(page.embed)}
      header={page.header}
    >
      {body}
    </Layout>
  ).toString()
  return new Response(`<!doctype html>${html}`, {
    status: page.status ?? 200,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': `${pageCsp(style, page.withFormScript, Boolean(settings.turnstileSiteKey), page.embed?.framableBy)}${page.frames ? "; frame-src 'self'" : ''}`,
    },
  })
}
