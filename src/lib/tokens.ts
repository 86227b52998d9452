/**
 * Signed links: HMAC-SHA256 (Web Crypto) over a small payload that names its purpose, so a token
 * made for one action never works for another, and an altered one never verifies.
 */

/** What a token may be used for. */
export type TokenPurpose = 'confirm' | 'unsubscribe' | 'preferences' | 'click' | 'stay'

/** Why a token was refused; `malformed` is a 400, the rest are 403s. */
export type TokenProblem = 'malformed' | 'forged' | 'expired' | 'wrong-purpose'

/** The outcome of checking a token: whom it names, and the round of the course it was issued in. */
export type TokenCheck =
  | { ok: true; subscriberId: string; round?: number; topic?: string }
  | { ok: false; problem: TokenProblem }

interface Payload {
  p: TokenPurpose
  s: string
  /** The round it was issued for (a confirmation acts only on the signup it confirms). */
  r?: number
  /** What it acts on, when a purpose has several (an unsubscribe link: which topic it leaves). */
  t?: string
  /** Expiry, epoch seconds; absent for links that must work for ever (unsubscribe). */
  e?: number
}

const encoder = new TextEncoder()
const keyCache = new Map<string, Promise<CryptoKey>>()

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret)
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ])
    keyCache.set(secret, key)
  }
  return key
}

const toBase64Url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')

/**
 * Decodes unpadded base64url, refusing any text that is not the one canonical spelling of its
 * bytes: the last character of a 43-character signature carries 2 unused bits, so without this
 * check four different links would verify as the same token.
 */
function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined
  try {
    const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0))
    return toBase64Url(bytes) === text ? bytes : undefined
  } catch {
    return undefined
  }
}

/**
 * Makes a token for one subscriber and one purpose.
 * @example await signToken(env.SIGNING_KEY, 'confirm', id, { now, ttlSeconds: 7 * 86400 })
 */
export async function signToken(
  secret: string,
  purpose: TokenPurpose,
  subscriberId: string,
  options: { now: number; ttlSeconds?: number; round?: number; topic?: string },
): Promise<string> {
  const payload: Payload = { p: purpose, s: subscriberId }
  if (options.round !== undefined) payload.r = options.round
  if (options.topic !== undefined) payload.t = options.topic
  if (options.ttlSeconds !== undefined) payload.e = Math.floor(options.now / 1000) + options.ttlSeconds
  const body = toBase64Url(encoder.encode(JSON.stringify(payload)))
  const sig = await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(body))
  return `${body}.${toBase64Url(new Uint8Array(sig))}`
}

/** Checks a token's signature (in constant time, by Web Crypto), purpose and expiry. */
export async function verifyToken(
  secret: string,
  purpose: TokenPurpose,
  token: string,
  now: number,
): Promise<TokenCheck> {
  const [body, sigText, extra] = token.split('.')
  if (!body || !sigText || extra !== undefined || token.length > 512) return { ok: false, problem: 'malformed' }
  const sig = fromBase64Url(sigText)
  const raw = fromBase64Url(body)
  if (!sig || !raw) return { ok: false, problem: 'malformed' }
  const valid = await crypto.subtle.verify('HMAC', await hmacKey(secret), sig, encoder.encode(body))
  if (!valid) return { ok: false, problem: 'forged' }
  let payload: Payload
  try {
    payload = JSON.parse(new TextDecoder().decode(raw)) as Payload
  } catch {
    return { ok: false, problem: 'malformed' }
  }
  if (payload.p !== purpose) return { ok: false, problem: 'wrong-purpose' }
  if (payload.e !== undefined && payload.e * 1000 <= now) return { ok: false, problem: 'expired' }
  if (
    typeof payload.s !== 'string' ||
    (payload.r !== undefined && !Number.isSafeInteger(payload.r)) ||
    (payload.t !== undefined && typeof payload.t !== 'string')
  )
    return { ok: false, problem: 'malformed' }
  return {
    ok: true,
    subscriberId: payload.s,
    ...(payload.r === undefined ? {} : { round: payload.r }),
    ...(payload.t === undefined ? {} : { topic: payload.t }),
  }
}
