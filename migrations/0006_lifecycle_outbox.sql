-- One home for the subscriber lifecycle: each change of state is one guarded D1 batch that writes
-- the change, its history line and its side effects together.

-- A fresh id written by the statement that changes a subscriber's state. The history line and the
-- outbox rows of that change select the subscriber by (its key, this id), so they are written if
-- and only if the guarded change itself happened, in the same transaction.
ALTER TABLE subscribers ADD COLUMN transition_id TEXT;

-- The transactional outbox: work a state change causes (an email to send, an event for the
-- marketer's webhook), committed with the change. Handing a row to its queue is a doorbell: the
-- row is deleted once the queue has it, and the cron's relay hands over whatever is left.
CREATE TABLE queue_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  -- The subscriber the job is about (erasure removes their waiting jobs); NULL when it names none.
  subscriber_id TEXT,
  -- The job as the queue carries it: JSON with its "kind".
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE INDEX queue_outbox_created ON queue_outbox (created_at);
CREATE INDEX queue_outbox_subscriber ON queue_outbox (subscriber_id);

-- The follow-up statements of a transition find its rows by transition_id.
CREATE INDEX subscribers_transition ON subscribers (transition_id);

-- suppressions.reason: 'erased', and now also 'bounced' and 'complained' (never mailed or stored again).
