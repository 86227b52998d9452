-- Subscribers of the courses, their consent evidence, what happened to them, and the local outbox.
-- Times are epoch milliseconds (UTC).

CREATE TABLE subscribers (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  -- Trimmed and lower-cased: the address compared for uniqueness.
  email_normalized TEXT NOT NULL,
  first_name TEXT,
  course TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'paused', 'completed', 'unsubscribed', 'bounced', 'complained')),
  timezone TEXT NOT NULL,
  -- How many lessons have been sent; the next lesson is lesson_position + 1.
  lesson_position INTEGER NOT NULL DEFAULT 0,
  next_send_at INTEGER,
  source TEXT,
  referrer TEXT,
  landing_path TEXT,
  utm_source TEXT,
  utm_medium TEXT,
  utm_campaign TEXT,
  utm_term TEXT,
  utm_content TEXT,
  tags TEXT NOT NULL DEFAULT '[]',
  consent_at INTEGER NOT NULL,
  consent_ip TEXT,
  consent_user_agent TEXT,
  consent_text TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  confirmation_sent_at INTEGER,
  confirmed_at INTEGER,
  unsubscribed_at INTEGER,
  updated_at INTEGER NOT NULL,
  UNIQUE (email_normalized, course)
);

CREATE INDEX subscribers_due ON subscribers (status, next_send_at);
CREATE INDEX subscribers_created ON subscribers (created_at);

-- Append-only history of each subscriber: signups, confirmations, changes, unsubscribes.
CREATE TABLE subscriber_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subscriber_id TEXT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  at INTEGER NOT NULL,
  data TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX subscriber_events_subscriber ON subscriber_events (subscriber_id, at);

-- Emails "sent" when no provider key is set (local runs and tests); read at /dev/outbox.
CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  from_address TEXT NOT NULL,
  to_address TEXT NOT NULL,
  subject TEXT NOT NULL,
  headers TEXT NOT NULL,
  html TEXT NOT NULL,
  text TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]'
);

CREATE INDEX outbox_created ON outbox (created_at);
