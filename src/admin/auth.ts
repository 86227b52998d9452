import { createMiddleware } from 'hono/factory'
import { timingSafeEqual } from 'hono/utils/buffer'
import { ApiError } from '../lib/errors'

const fail = (status: 401 | 403 | 503, message: string, headers: Record<string, string> = {}) =>
  new ApiError(status, message, { headers })

/**
 * The admin API's door: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time with
 * hono's timingSafeEqual. No token: 401; a wrong one: 403; none configured: 503.
 */
export const adminAuth = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN
  if (!expected) {
    console.error('admin refused: ADMIN_TOKEN is not set')
    throw fail(503, 'the admin API is not configured (ADMIN_TOKEN)')
  }
  const given = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('Authorization') ?? '')?.[1]
  if (!given)
    throw fail(401, 'an Authorization: Bearer token is required', { 'WWW-Authenticate': 'Bearer realm="admin"' })
  if (!(await timingSafeEqual(expected, given))) throw fail(403, 'that token is not the admin token')
  await next()
})
