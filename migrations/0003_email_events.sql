-- What the mail provider told us about each email (Resend webhooks), once per webhook message.
CREATE TABLE email_events (
  -- The webhook message's id (svix-id): a redelivered webhook is recorded once.
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  -- The provider's id of the email; joins deliveries.message_id for lessons.
  email_id TEXT,
  to_address TEXT,
  subscriber_id TEXT REFERENCES subscribers (id) ON DELETE SET NULL,
  occurred_at INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  data TEXT NOT NULL
);

CREATE INDEX email_events_email ON email_events (email_id);
CREATE INDEX email_events_subscriber ON email_events (subscriber_id, occurred_at);
CREATE INDEX deliveries_message ON deliveries (message_id);
