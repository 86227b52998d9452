-- Addresses that must never be mailed again, kept only as a SHA-256 of the normalized address
-- (after a GDPR erasure nothing else about the person remains).
CREATE TABLE suppressions (
  email_hash TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
