-- The dashboard's sessions, so that signing out ends one (a copied cookie then opens nothing), and
-- the wrong admin tokens each client sent lately, so that guessing is throttled.

CREATE TABLE admin_sessions (
  -- Random; the signed session cookie carries it.
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  -- Set by signing out: the session no longer opens anything.
  ended_at INTEGER
);

CREATE TABLE admin_sign_in_failures (
  -- The client's IP (CF-Connecting-IP).
  client TEXT NOT NULL,
  at INTEGER NOT NULL
);

CREATE INDEX admin_sign_in_failures_client ON admin_sign_in_failures (client, at);
