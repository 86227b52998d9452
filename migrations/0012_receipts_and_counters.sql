-- Data that grows with every email, kept small: one compact row per email a subscriber was sent
-- (what became of it as bits), counters that stats read instead of rows, and no provider JSON.
-- Before: ~510 bytes per email sent (delivery row, batch, four indexes) plus ~1 KB per provider
-- event (the webhook's JSON and three indexes). Now: ~25 bytes per email, events included.

-- A small, stable number for each subscriber, for the compact tables below (the TEXT id is 36
-- bytes in every row and index that carries it). Given at insert, never reused.
ALTER TABLE subscribers ADD COLUMN num INTEGER;
UPDATE subscribers SET num = rowid;
CREATE UNIQUE INDEX subscribers_num ON subscribers (num);
CREATE TRIGGER subscribers_numbered AFTER INSERT ON subscribers WHEN new.num IS NULL
BEGIN
  UPDATE subscribers SET num = coalesce((SELECT max(num) FROM subscribers), 0) + 1 WHERE id = new.id;
END;

-- When the reader last followed a link of ours (first-party, /r/): the sunset policy and the
-- clickers per source read it.
ALTER TABLE subscribers ADD COLUMN last_click_at INTEGER;

-- Every email there is, by key ('lesson:<course>:<n>', 'broadcast:<id>', 'confirmation', …), numbered.
CREATE TABLE emails (
  num INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE
);

-- One row per (subscriber, email) sent: when, and what the provider and the reader did with it, as
-- bits: 1 delivered, 2 opened, 4 clicked (provider), 8 bounced, 16 complained, 32 followed a link of
-- ours. A redelivered webhook sets a bit already set, and counts nothing twice. Kept for the raw
-- history period (retention.rawMonths), then only the counters remain.
CREATE TABLE receipts (
  subscriber INTEGER NOT NULL,
  email INTEGER NOT NULL,
  sent_at INTEGER NOT NULL,
  events INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (subscriber, email)
) WITHOUT ROWID;

-- Counters, kept forever and never naming anyone: per email and signup day (the stats' cohorts),
-- and per day sent (the deliverability guard's window).
CREATE TABLE email_counts (
  email INTEGER NOT NULL,
  -- The subscribers' signup day (days since 1970-01-01, UTC).
  cohort INTEGER NOT NULL,
  sent INTEGER NOT NULL DEFAULT 0,
  delivered INTEGER NOT NULL DEFAULT 0,
  opened INTEGER NOT NULL DEFAULT 0,
  clicked INTEGER NOT NULL DEFAULT 0,
  bounced INTEGER NOT NULL DEFAULT 0,
  complained INTEGER NOT NULL DEFAULT 0,
  -- Readers who followed a link of ours in it.
  readers INTEGER NOT NULL DEFAULT 0,
  -- Readers who left the newsletter while this was the last broadcast they had been sent.
  unsubscribed INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (email, cohort)
) WITHOUT ROWID;

CREATE TABLE day_counts (
  day INTEGER PRIMARY KEY,
  delivered INTEGER NOT NULL DEFAULT 0
);

-- First-party clicks: raw, one row per reader, email and link, for the raw history period; and
-- their counters per link, forever.
CREATE TABLE link_clicks (
  subscriber INTEGER NOT NULL,
  email INTEGER NOT NULL,
  link TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (subscriber, email, link)
) WITHOUT ROWID;

CREATE TABLE link_counts (
  email INTEGER NOT NULL,
  link TEXT NOT NULL,
  clicks INTEGER NOT NULL DEFAULT 0,
  readers INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (email, link)
) WITHOUT ROWID;

-- Bounces and complaints with their times: the guard's evidence (few rows: well under 1% of mail).
CREATE TABLE trouble (
  subscriber INTEGER NOT NULL,
  email INTEGER NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('bounced', 'complained')),
  -- A permanent (hard) bounce; 0 for a soft one and for complaints.
  hard INTEGER NOT NULL DEFAULT 0,
  at INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (subscriber, email, type)
) WITHOUT ROWID;

CREATE INDEX trouble_time ON trouble (type, at);

-- ---- What the old tables held, carried over -------------------------------------------------

INSERT OR IGNORE INTO emails (key)
  SELECT DISTINCT 'lesson:' || course || ':' || lesson FROM deliveries WHERE status = 'sent';
INSERT OR IGNORE INTO emails (key)
  SELECT DISTINCT 'broadcast:' || broadcast_id FROM broadcast_recipients WHERE status = 'sent';
INSERT OR IGNORE INTO emails (key) SELECT DISTINCT email FROM clicks;

INSERT OR IGNORE INTO receipts (subscriber, email, sent_at, events)
  SELECT s.num, e.num, d.sent_at, coalesce((SELECT sum(DISTINCT CASE x.type
      WHEN 'email.delivered' THEN 1 WHEN 'email.opened' THEN 2 WHEN 'email.clicked' THEN 4
      WHEN 'email.bounced' THEN 8 WHEN 'email.complained' THEN 16 END)
    FROM email_events x WHERE x.email_id = d.message_id), 0)
  FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
  JOIN emails e ON e.key = 'lesson:' || d.course || ':' || d.lesson
  WHERE d.status = 'sent' ORDER BY d.round DESC;
INSERT OR IGNORE INTO receipts (subscriber, email, sent_at, events)
  SELECT s.num, e.num, r.sent_at, coalesce((SELECT sum(DISTINCT CASE x.type
      WHEN 'email.delivered' THEN 1 WHEN 'email.opened' THEN 2 WHEN 'email.clicked' THEN 4
      WHEN 'email.bounced' THEN 8 WHEN 'email.complained' THEN 16 END)
    FROM email_events x WHERE x.email_id = r.message_id), 0)
  FROM broadcast_recipients r JOIN subscribers s ON s.id = r.subscriber_id
  JOIN emails e ON e.key = 'broadcast:' || r.broadcast_id
  WHERE r.status = 'sent';

INSERT OR IGNORE INTO link_clicks (subscriber, email, link, at)
  SELECT s.num, e.num, c.link, min(c.at) FROM clicks c JOIN subscribers s ON s.id = c.subscriber_id
  JOIN emails e ON e.key = c.email GROUP BY s.num, e.num, c.link;
INSERT INTO link_counts (email, link, clicks, readers)
  SELECT e.num, c.link, count(*), count(DISTINCT c.subscriber_id) FROM clicks c JOIN emails e ON e.key = c.email
  GROUP BY e.num, c.link;
UPDATE receipts SET events = events | 32
  WHERE EXISTS (SELECT 1 FROM link_clicks k WHERE k.subscriber = receipts.subscriber AND k.email = receipts.email);
UPDATE subscribers SET last_click_at = (SELECT max(at) FROM clicks c WHERE c.subscriber_id = subscribers.id);

INSERT OR IGNORE INTO trouble (subscriber, email, type, hard, at, received_at)
  SELECT s.num, coalesce(r.email, 0), substr(x.type, 7),
    x.type = 'email.bounced' AND coalesce(json_extract(x.data, '$.bounce.type'), 'Permanent') = 'Permanent',
    x.occurred_at, x.received_at
  FROM email_events x JOIN subscribers s ON s.id = x.subscriber_id
  LEFT JOIN (SELECT d.message_id, e.num AS email FROM deliveries d JOIN emails e ON e.key = 'lesson:' || d.course || ':' || d.lesson
             UNION ALL
             SELECT b.message_id, e.num FROM broadcast_recipients b JOIN emails e ON e.key = 'broadcast:' || b.broadcast_id) r
    ON r.message_id = x.email_id
  WHERE x.type IN ('email.bounced', 'email.complained');

INSERT INTO email_counts (email, cohort, sent, delivered, opened, clicked, bounced, complained, readers)
  SELECT r.email, s.created_at / 86400000, count(*), sum((r.events & 1) > 0), sum((r.events & 2) > 0),
    sum((r.events & 4) > 0), sum((r.events & 8) > 0), sum((r.events & 16) > 0), sum((r.events & 32) > 0)
  FROM receipts r JOIN subscribers s ON s.num = r.subscriber GROUP BY r.email, s.created_at / 86400000;
INSERT INTO day_counts (day, delivered)
  SELECT sent_at / 86400000, count(*) FROM receipts WHERE events & 1 GROUP BY sent_at / 86400000;

DROP TABLE email_events;
DROP TABLE clicks;
-- The webhook finds its email by the tags it was sent with, not by the provider's id; stats read counters.
DROP INDEX deliveries_message;
DROP INDEX broadcast_recipients_message;
DROP INDEX deliveries_course_lesson;
-- The relay reads the outbox in id order (a few rows: each is deleted once its queue has it).
DROP INDEX queue_outbox_created;

-- ---- Counting, in the statement that records -------------------------------------------------

-- A lesson or a broadcast sent: its receipt (a resend of the same email starts afresh) and its count.
CREATE TRIGGER deliveries_receipt AFTER UPDATE OF status ON deliveries
WHEN new.status = 'sent' AND old.status <> 'sent'
BEGIN
  INSERT OR IGNORE INTO emails (key) VALUES ('lesson:' || new.course || ':' || new.lesson);
  INSERT INTO receipts (subscriber, email, sent_at)
    SELECT s.num, e.num, new.sent_at FROM subscribers s, emails e
    WHERE s.id = new.subscriber_id AND e.key = 'lesson:' || new.course || ':' || new.lesson
    ON CONFLICT DO UPDATE SET sent_at = excluded.sent_at, events = 0;
  INSERT INTO email_counts (email, cohort, sent)
    SELECT e.num, s.created_at / 86400000, 1 FROM subscribers s, emails e
    WHERE s.id = new.subscriber_id AND e.key = 'lesson:' || new.course || ':' || new.lesson
    ON CONFLICT DO UPDATE SET sent = sent + 1;
END;

CREATE TRIGGER broadcast_receipt AFTER UPDATE OF status ON broadcast_recipients
WHEN new.status = 'sent' AND old.status <> 'sent'
BEGIN
  INSERT OR IGNORE INTO emails (key) VALUES ('broadcast:' || new.broadcast_id);
  INSERT INTO receipts (subscriber, email, sent_at)
    SELECT s.num, e.num, new.sent_at FROM subscribers s, emails e
    WHERE s.id = new.subscriber_id AND e.key = 'broadcast:' || new.broadcast_id
    ON CONFLICT DO UPDATE SET sent_at = excluded.sent_at, events = 0;
  INSERT INTO email_counts (email, cohort, sent)
    SELECT e.num, s.created_at / 86400000, 1 FROM subscribers s, emails e
    WHERE s.id = new.subscriber_id AND e.key = 'broadcast:' || new.broadcast_id
    ON CONFLICT DO UPDATE SET sent = sent + 1;
END;

-- What the provider and the reader did: each bit counted once, when it is first set.
CREATE TRIGGER receipts_counted AFTER INSERT ON receipts WHEN new.events <> 0
BEGIN
  INSERT INTO email_counts (email, cohort, delivered, opened, clicked, bounced, complained, readers)
    SELECT new.email, s.created_at / 86400000, (new.events & 1) > 0, (new.events & 2) > 0, (new.events & 4) > 0,
      (new.events & 8) > 0, (new.events & 16) > 0, (new.events & 32) > 0
    FROM subscribers s WHERE s.num = new.subscriber
    ON CONFLICT DO UPDATE SET delivered = delivered + excluded.delivered, opened = opened + excluded.opened,
      clicked = clicked + excluded.clicked, bounced = bounced + excluded.bounced,
      complained = complained + excluded.complained, readers = readers + excluded.readers;
  INSERT INTO day_counts (day, delivered) SELECT new.sent_at / 86400000, 1 WHERE new.events & 1
    ON CONFLICT DO UPDATE SET delivered = delivered + 1;
END;

CREATE TRIGGER receipts_recounted AFTER UPDATE OF events ON receipts WHEN new.events & ~old.events <> 0
BEGIN
  INSERT INTO email_counts (email, cohort, delivered, opened, clicked, bounced, complained, readers)
    SELECT new.email, s.created_at / 86400000, (new.events & ~old.events & 1) > 0, (new.events & ~old.events & 2) > 0,
      (new.events & ~old.events & 4) > 0, (new.events & ~old.events & 8) > 0, (new.events & ~old.events & 16) > 0,
      (new.events & ~old.events & 32) > 0
    FROM subscribers s WHERE s.num = new.subscriber
    ON CONFLICT DO UPDATE SET delivered = delivered + excluded.delivered, opened = opened + excluded.opened,
      clicked = clicked + excluded.clicked, bounced = bounced + excluded.bounced,
      complained = complained + excluded.complained, readers = readers + excluded.readers;
  INSERT INTO day_counts (day, delivered) SELECT new.sent_at / 86400000, 1 WHERE new.events & ~old.events & 1
    ON CONFLICT DO UPDATE SET delivered = delivered + 1;
END;

-- A first-party click: a new reader of the link.
CREATE TRIGGER link_clicks_counted AFTER INSERT ON link_clicks
BEGIN
  INSERT INTO link_counts (email, link, readers) VALUES (new.email, new.link, 1)
    ON CONFLICT DO UPDATE SET readers = readers + 1;
END;

-- Leaving the newsletter counts against the last broadcast the reader was sent.
CREATE TRIGGER newsletter_left_counted AFTER UPDATE OF newsletter ON subscribers
WHEN old.newsletter = 'active' AND new.newsletter = 'left'
BEGIN
  INSERT INTO email_counts (email, cohort, unsubscribed)
    SELECT r.email, new.created_at / 86400000, 1 FROM receipts r JOIN emails e ON e.num = r.email
    WHERE r.subscriber = new.num AND e.key LIKE 'broadcast:%' ORDER BY r.sent_at DESC LIMIT 1
    ON CONFLICT DO UPDATE SET unsubscribed = unsubscribed + 1;
END;
