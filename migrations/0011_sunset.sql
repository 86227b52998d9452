-- The sunset policy: a reader with no click in their last N emails is asked whether they still want
-- them; this is when they were asked (NULL: not asked, or answered by staying or by a click).
ALTER TABLE subscribers ADD COLUMN sunset_asked_at INTEGER;

CREATE INDEX subscribers_sunset ON subscribers (sunset_asked_at) WHERE sunset_asked_at IS NOT NULL;
