-- First-party clicks: a link in a lesson or a broadcast goes through /r/ on our own domain, which
-- records who clicked which link of which email, then redirects. Counted here, not by the mail
-- provider's tracking (which Apple Mail Privacy Protection and link scanners distort).
CREATE TABLE clicks (
  subscriber_id TEXT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  -- The email: 'lesson:<course>:<n>' or 'broadcast:<id>'.
  email TEXT NOT NULL,
  -- The link's id in the published manifest (its target is the manifest's).
  link TEXT NOT NULL,
  at INTEGER NOT NULL
);

CREATE INDEX clicks_email ON clicks (email, link);
CREATE INDEX clicks_subscriber ON clicks (subscriber_id);
