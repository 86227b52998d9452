import { signToken, type TokenPurpose } from '../lib/tokens'

/** Confirm links expire: an old confirmation email should not start a course months later. */
export const CONFIRM_TTL_SECONDS = 7 * 24 * 3600

/**
 * The `{{click}}` token of one reader's email: its /r/ links record a click of this reader on this
 * email ('lesson:<course>:<n>' or 'broadcast:<id>'). One HMAC per email, whatever its links.
 */
export const clickToken = (signingKey: string, subscriberId: string, email: string, now: number) =>
  signToken(signingKey, 'click', subscriberId, { now, topic: email })

/**
 * The signed links one subscriber's email needs (each costs an HMAC, so only those asked for),
 * under the site's public origin; an empty origin gives paths, for links within the site.
 * @example await subscriberLinks(key, origin, id, now, ['unsubscribe', 'preferences'])
 */
export async function subscriberLinks<P extends TokenPurpose>(
  signingKey: string,
  origin: string,
  subscriberId: string,
  now: number,
  purposes: readonly P[],
  /** The round of the course the email belongs to; a confirm link needs it. */
  round?: number,
  /** The topic an unsubscribe link leaves: the email's own (a lesson's, the course; absent means the course). */
  topic?: 'course' | 'newsletter' | 'all',
): Promise<Record<P, string>> {
  const base = origin.replace(/\/+$/, '')
  const links = await Promise.all(
    purposes.map(async (purpose) => {
      const ttlSeconds = purpose === 'confirm' ? CONFIRM_TTL_SECONDS : undefined
      const options = {
        now,
        ttlSeconds,
        round,
        ...(purpose === 'unsubscribe' && topic && topic !== 'course' ? { topic } : {}),
      }
      return [purpose, `${base}/${purpose}/${await signToken(signingKey, purpose, subscriberId, options)}`]
    }),
  )
  return Object.fromEntries(links) as Record<P, string>
}
