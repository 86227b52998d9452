-- Broadcasts: a published essay (or letter) sent to the newsletter's members, once each.

CREATE TABLE broadcasts (
  id TEXT PRIMARY KEY,
  -- The published essay or letter (a key of the manifest's broadcasts).
  path TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled')),
  -- 'now', 'local-morning' or 'at' (send_at); NULL for a draft.
  send_mode TEXT CHECK (send_mode IN ('now', 'local-morning', 'at')),
  send_at INTEGER,
  -- JSON: the segment that narrowed the recipients, as the marketer gave it.
  segment TEXT NOT NULL DEFAULT '{}',
  recipients INTEGER NOT NULL DEFAULT 0,
  -- Progress, kept by the trigger below as recipients move on (an erasure does not undo a count).
  sent INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  -- JSON: {reason: count} of the skipped.
  skipped_because TEXT NOT NULL DEFAULT '{}',
  -- Why it paused by itself (the deliverability guard), for the dashboard and the API.
  paused_reason TEXT,
  -- Complaints and bounces the marketer has seen and resumed past: the guard counts only new ones.
  guard_acknowledged_at INTEGER,
  created_at INTEGER NOT NULL,
  scheduled_at INTEGER,
  finished_at INTEGER,
  updated_at INTEGER NOT NULL
);

CREATE INDEX broadcasts_path ON broadcasts (path);
CREATE INDEX broadcasts_status ON broadcasts (status);

-- One row per (broadcast, subscriber), taken when it is scheduled: the record that makes it exactly once.
CREATE TABLE broadcast_recipients (
  broadcast_id TEXT NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
  subscriber_id TEXT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  -- When it goes: the broadcast's time, or the recipient's own morning (moved on a lesson's day).
  due_at INTEGER NOT NULL,
  -- waiting -> queued (claimed by the cron, leased) -> sending (in a recorded provider batch) -> sent;
  -- or skipped (reason) / failed (reason).
  status TEXT NOT NULL CHECK (status IN ('waiting', 'queued', 'sending', 'sent', 'skipped', 'failed')),
  reason TEXT,
  lease_until INTEGER,
  -- The provider batch it went in: its idempotency key.
  batch_key TEXT,
  message_id TEXT,
  sent_at INTEGER,
  PRIMARY KEY (broadcast_id, subscriber_id)
) WITHOUT ROWID;

-- What is still to do, per broadcast: the cron's claim and the check whether a broadcast is done.
CREATE INDEX broadcast_recipients_open ON broadcast_recipients (broadcast_id, status, due_at)
  WHERE status IN ('waiting', 'queued', 'sending');
CREATE INDEX broadcast_recipients_batch ON broadcast_recipients (batch_key) WHERE batch_key IS NOT NULL;
CREATE INDEX broadcast_recipients_subscriber ON broadcast_recipients (subscriber_id);
CREATE INDEX broadcast_recipients_message ON broadcast_recipients (message_id) WHERE message_id IS NOT NULL;

-- The counters follow each recipient's move to sent, skipped or failed, in the same statement.
CREATE TRIGGER broadcast_progress AFTER UPDATE OF status ON broadcast_recipients
WHEN new.status IN ('sent', 'skipped', 'failed') AND old.status NOT IN ('sent', 'skipped', 'failed')
BEGIN
  UPDATE broadcasts SET
    sent = sent + (new.status = 'sent'),
    failed = failed + (new.status = 'failed'),
    skipped = skipped + (new.status = 'skipped'),
    skipped_because = CASE WHEN new.status = 'skipped'
      THEN json_set(skipped_because, '$.' || coalesce(new.reason, 'other'),
                    coalesce(json_extract(skipped_because, '$.' || coalesce(new.reason, 'other')), 0) + 1)
      ELSE skipped_because END
  WHERE id = new.broadcast_id;
END;

-- The deliverability guard counts complaints and deliveries over the last 7 days.
CREATE INDEX email_events_type_time ON email_events (type, occurred_at);
