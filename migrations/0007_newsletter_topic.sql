-- Topics: besides the course (status, as before), a subscriber may take the newsletter (every new
-- essay, sent as a broadcast). Each topic has its own consent evidence and its own way out.

-- 'none': never asked; 'pending': asked on a signup not confirmed yet; 'active': receives
-- broadcasts; 'left': left it (one-click, preferences, or unsubscribing from everything).
ALTER TABLE subscribers ADD COLUMN newsletter TEXT NOT NULL DEFAULT 'none'
  CHECK (newsletter IN ('none', 'pending', 'active', 'left'));
ALTER TABLE subscribers ADD COLUMN newsletter_consent_at INTEGER;
ALTER TABLE subscribers ADD COLUMN newsletter_consent_ip TEXT;
ALTER TABLE subscribers ADD COLUMN newsletter_consent_user_agent TEXT;
ALTER TABLE subscribers ADD COLUMN newsletter_consent_text TEXT;
ALTER TABLE subscribers ADD COLUMN newsletter_joined_at INTEGER;
ALTER TABLE subscribers ADD COLUMN newsletter_left_at INTEGER;

-- Taking a broadcast's recipients reads only the newsletter's members.
CREATE INDEX subscribers_newsletter ON subscribers (newsletter, created_at) WHERE newsletter = 'active';
