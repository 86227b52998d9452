/** Suppressed addresses: erased, bounced or complained. Never mailed, never stored again. */
import { sha256Hex } from '../lib/hash'
import { normalizeEmail } from './store'

/** Why an address may not be mailed or stored. */
export type SuppressionReason = 'erased' | 'bounced' | 'complained'

/** The form in which a suppressed address is remembered: comparable, never readable. */
export const suppressionHash = (email: string) => sha256Hex(normalizeEmail(email))

/** Why the address is suppressed, or undefined when it may be mailed. */
export async function suppressionOf(db: D1Database, email: string): Promise<SuppressionReason | undefined> {
  const row = await db
    .prepare('SELECT reason FROM suppressions WHERE email_hash = ?')
    .bind(await suppressionHash(email))
    .first<{ reason: SuppressionReason }>()
  return row?.reason
}

/** Suppression reasons of several hashes, in one query. */
export async function suppressionsOf(db: D1Database, hashes: string[]): Promise<Map<string, SuppressionReason>> {
  const { results } = await db
    .prepare('SELECT email_hash, reason FROM suppressions WHERE email_hash IN (SELECT value FROM json_each(?))')
    .bind(JSON.stringify(hashes))
    .all<{ email_hash: string; reason: SuppressionReason }>()
  return new Map(results.map((r) => [r.email_hash, r.reason]))
}
