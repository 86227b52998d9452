/** Cloudflare's server-side check of a Turnstile token. */
export const TURNSTILE_VERIFY_URL = 'https://challenges.cloudflare.com/turnstile/v0/siteverify'

/** Whether the token shows a person filled the form; `unavailable` when the check itself failed. */
export type TurnstileResult = 'passed' | 'failed' | 'unavailable'

/** Verifies a Turnstile token with Cloudflare (siteverify), for one client IP. */
export async function verifyTurnstile(
  secret: string,
  token: string | undefined,
  ip: string | undefined,
  url = TURNSTILE_VERIFY_URL,
): Promise<TurnstileResult> {
  if (!token) return 'failed'
  const body = new URLSearchParams({ secret, response: token })
  if (ip) body.set('remoteip', ip)
  try {
    const res = await fetch(url, { method: 'POST', body })
    if (!res.ok) return 'unavailable'
    const outcome = (await res.json()) as { success?: boolean }
    return outcome.success === true ? 'passed' : 'failed'
  } catch {
    return 'unavailable'
  }
}
