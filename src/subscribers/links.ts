import { signToken } from '../lib/tokens'

/** Confirm links expire: an old confirmation email should not start a course months later. */
export const CONFIRM_TTL_SECONDS = 7 * 24 * 3600

/** The signed links that go into a subscriber's emails. */
export interface SubscriberLinks {
  confirm: string
  unsubscribe: string
  preferences: string
}

/** Makes the signed links for one subscriber, under the site's public origin. */
export async function subscriberLinks(
  signingKey: string,
  origin: string,
  subscriberId: string,
  now: number,
): Promise<SubscriberLinks> {
  const base = origin.replace(/\/+$/, '')
  const [confirm, unsubscribe, preferences] = await Promise.all([
    signToken(signingKey, 'confirm', subscriberId, { now, ttlSeconds: CONFIRM_TTL_SECONDS }),
    signToken(signingKey, 'unsubscribe', subscriberId, { now }),
    signToken(signingKey, 'preferences', subscriberId, { now }),
  ])
  return {
    confirm: `${base}/confirm/${confirm}`,
    unsubscribe: `${base}/unsubscribe/${unsubscribe}`,
    preferences: `${base}/preferences/${preferences}`,
  }
}
