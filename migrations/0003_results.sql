-- What each run did: a JSON summary per automation (or, in a dry run, what it would have done).
-- external_id: the sender's own ID of a callback (Stripe event id, X-GitHub-Delivery, webhook-id); NULL for Logto.
-- sweep_state: the reconciliation sweep's cursor and progress, so an interrupted sweep resumes where it stopped.
-- links: external account → Logto user (a Stripe customer, a GitHub user), written when an automation learns it.
-- Columns are documented in docs/journal.md.
ALTER TABLE events ADD COLUMN result TEXT;
ALTER TABLE events ADD COLUMN external_id TEXT;
CREATE TABLE IF NOT EXISTS sweep_state (
  name TEXT PRIMARY KEY,
  cursor INTEGER NOT NULL,
  run_started_at INTEGER,
  run_upper INTEGER,
  scanned_down_to INTEGER,
  resume_page INTEGER,
  scanned INTEGER NOT NULL DEFAULT 0,
  queued INTEGER NOT NULL DEFAULT 0,
  last_finished_at INTEGER,
  last_report TEXT
);
CREATE TABLE IF NOT EXISTS links (
  provider TEXT NOT NULL,
  external_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  linked_at INTEGER NOT NULL,
  PRIMARY KEY (provider, external_id)
);
