import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { timingSafeEqual } from 'hono/utils/buffer'
import { ApiError } from '../lib/errors'
import { clearFailures, recordFailure, throttled } from './sessions'

const fail = (status: 401 | 403 | 429 | 503, message: string, headers: Record<string, string> = {}) =>
  new ApiError(status, message, { headers })

/** An admin token shorter than this is refused, as a weak SIGNING_KEY is. */
export const MIN_ADMIN_TOKEN = 32

/** Why the admin cannot open (no token, or a weak one), or undefined when it can. */
export function adminProblem(env: Env): string | undefined {
  if (!env.ADMIN_TOKEN) return 'the admin is not configured (ADMIN_TOKEN is not set)'
  if (env.ADMIN_TOKEN.length < MIN_ADMIN_TOKEN)
    return `ADMIN_TOKEN is shorter than ${MIN_ADMIN_TOKEN} characters; set a long random string`
  return undefined
}

/** Who is knocking, for the throttle: the client's IP as Cloudflare saw it. */
const clientOf = (c: Context) => c.req.header('CF-Connecting-IP') ?? 'unknown'

/**
 * Checks a token someone gave (a bearer token or the sign-in form's), in constant time. A client
 * that sent 5 wrong tokens in 10 minutes is answered 429 with Retry-After before any comparison.
 */
export async function tokenCheck(c: Context<{ Bindings: Env }>, given: string): Promise<'right' | 'wrong'> {
  const now = Date.now()
  const client = clientOf(c)
  const { failures, wait } = await throttled(c.env.DB, client, now)
  if (wait > 0)
    throw fail(429, `too many wrong tokens from this client; try again in ${wait} s`, { 'Retry-After': String(wait) })
  if (await timingSafeEqual(c.env.ADMIN_TOKEN ?? '', given)) {
    // A write only when there is something to forget: most requests carry the right token.
    if (failures > 0) await clearFailures(c.env.DB, client)
    return 'right'
  }
  await recordFailure(c.env.DB, client, now)
  return 'wrong'
}

/**
 * The admin API's door: `Authorization: Bearer <ADMIN_TOKEN>`. No token: 401; a wrong one: 403
 * (and 429 after 5 in 10 minutes); none configured, or a weak one: 503 saying why.
 */
export const adminAuth = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const problem = adminProblem(c.env)
  if (problem) {
    console.error(`admin refused: ${problem}`)
    throw fail(503, problem)
  }
  const given = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('Authorization') ?? '')?.[1]
  if (!given)
    throw fail(401, 'an Authorization: Bearer token is required', { 'WWW-Authenticate': 'Bearer realm="admin"' })
  if ((await tokenCheck(c, given)) === 'wrong') throw fail(403, 'that token is not the admin token')
  await next()
})

/** Every admin answer, pages and errors included, is kept out of every cache. */
export const adminNoStore = createMiddleware(async (c, next) => {
  await next()
  c.res.headers.set('Cache-Control', 'no-store')
})
