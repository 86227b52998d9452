-- A subscriber can take the course more than once: restarting it from the preferences page, or
-- signing up again after unsubscribing. Each time is a new round, and a delivery belongs to one
-- round, so lesson 1 of the second round is owed (and gets its own idempotency key) although
-- lesson 1 of the first was sent.
ALTER TABLE subscribers ADD COLUMN course_round INTEGER NOT NULL DEFAULT 1;

PRAGMA defer_foreign_keys = true;

CREATE TABLE deliveries_by_round (
  subscriber_id TEXT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  round INTEGER NOT NULL DEFAULT 1,
  lesson INTEGER NOT NULL,
  course TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('sending', 'sent')),
  batch_key TEXT NOT NULL,
  message_id TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  PRIMARY KEY (subscriber_id, round, lesson)
);

INSERT INTO deliveries_by_round (subscriber_id, round, lesson, course, status, batch_key, message_id, created_at, sent_at)
SELECT subscriber_id, 1, lesson, course, status, batch_key, message_id, created_at, sent_at FROM deliveries;

DROP TABLE deliveries;
ALTER TABLE deliveries_by_round RENAME TO deliveries;

CREATE INDEX deliveries_batch ON deliveries (batch_key);
CREATE INDEX deliveries_course_lesson ON deliveries (course, lesson, status);
CREATE INDEX deliveries_message ON deliveries (message_id);
