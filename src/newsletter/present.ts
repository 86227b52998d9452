import type { Manifest } from '../site/manifest'
import type { Broadcast } from './store'

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** A broadcast as the API shows it: counts as numbers, times in ISO 8601. */
export function presentBroadcast(b: Broadcast, manifest: Manifest) {
  const info = manifest.broadcasts?.[b.path]
  return {
    id: b.id,
    path: b.path,
    title: info?.title ?? null,
    kind: info?.kind ?? null,
    status: b.status,
    send: b.send_mode === 'at' ? iso(b.send_at) : b.send_mode,
    segment: JSON.parse(b.segment) as Record<string, unknown>,
    recipients: b.recipients,
    sent: b.sent,
    skipped: b.skipped,
    failed: b.failed,
    remaining: Math.max(0, b.recipients - b.sent - b.skipped - b.failed),
    skipped_because: JSON.parse(b.skipped_because) as Record<string, number>,
    paused_reason: b.paused_reason,
    created_at: iso(b.created_at),
    scheduled_at: iso(b.scheduled_at),
    finished_at: iso(b.finished_at),
  }
}
