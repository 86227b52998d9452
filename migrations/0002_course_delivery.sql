-- The course: who is being sent a lesson right now (a lease), what was sent, and in which batch.

-- Set by the cron dispatcher when it queues a subscriber's next lesson; a later run skips the
-- subscriber until the lease ends, so overlapping runs never queue the same lesson twice.
ALTER TABLE subscribers ADD COLUMN lease_until INTEGER;

-- One row per (subscriber, lesson), written before the provider is called ('sending') and
-- completed after ('sent'): the record that makes a retry resend the same batch under the same
-- idempotency key instead of sending twice, and that no lesson is skipped.
CREATE TABLE deliveries (
  subscriber_id TEXT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  lesson INTEGER NOT NULL,
  course TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('sending', 'sent')),
  batch_key TEXT NOT NULL,
  message_id TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  PRIMARY KEY (subscriber_id, lesson)
);

CREATE INDEX deliveries_batch ON deliveries (batch_key);
CREATE INDEX deliveries_course_lesson ON deliveries (course, lesson, status);

-- The exact composition of each provider batch, so that a retry sends the same request.
CREATE TABLE lesson_batches (
  batch_key TEXT PRIMARY KEY,
  course TEXT NOT NULL,
  -- JSON: [{"subscriberId": "...", "lesson": 2}, ...] in send order.
  pairs TEXT NOT NULL,
  -- When the batch was dispatched (the cron's scheduledTime): the "now" of its schedule.
  dispatched_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);

-- Messages that failed every retry, moved here by the dead-letter queues' consumer so they stay
-- visible (and can be replayed) instead of vanishing.
CREATE TABLE dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  received_at INTEGER NOT NULL
);
