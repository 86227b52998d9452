import { getSignedCookie } from 'hono/cookie'
import { createMiddleware } from 'hono/factory'
import type { Child } from 'hono/jsx'
import type { SiteContent } from '../site/content'
import { renderPage } from '../ui/page'
import { adminProblem } from './auth'
import { AdminHeader } from './render/dashboard'
import { sessionOpen } from './sessions'

/** The session cookie's name; it carries a session id signed with the admin token. */
export const SESSION = 'admin_session'
export const SESSION_MS = 8 * 3600_000
export const cookieOptions = { path: '/admin', httpOnly: true, secure: true, sameSite: 'Strict' } as const

/** What a dashboard page may say about itself. */
export interface AdminPageOptions {
  status?: number
  /** It frames our own URLs (an email's HTML, sandboxed). */
  frames?: boolean
  /** Its section in the navigation (none: signed out). */
  current?: string
}

/** Renders dashboard pages in the admin's own layout (its header, not the readers' chrome). */
export const adminPages =
  (content: SiteContent) =>
  async (env: Env, title: string, body: Child, o: AdminPageOptions = {}): Promise<Response> => {
    const { current, ...rest } = o
    const settings = (await content.manifest(env.CONTENT)).settings
    const header = <AdminHeader siteName={settings.name} current={current} />
    return renderPage(settings, { title, description: title, header, ...rest }, body)
  }

/**
 * Middleware: the request carries an open session (signed cookie, session in D1, so signing out
 * ends it even for a copy of the cookie), or goes to the sign-in page.
 */
export const signedIn = (content: SiteContent) => {
  const page = adminPages(content)
  return createMiddleware<{ Bindings: Env }>(async (c, next) => {
    const problem = adminProblem(c.env)
    if (problem) return page(c.env, 'Dashboard', <p>The dashboard cannot open: {problem}.</p>, { status: 503 })
    const id = await getSignedCookie(c, c.env.ADMIN_TOKEN as string, SESSION)
    if (!id || !(await sessionOpen(c.env.DB, id, Date.now()))) return c.redirect('/admin/sign-in', 303)
    await next()
  })
}
