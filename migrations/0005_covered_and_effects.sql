-- Engine re-cut (issue 10). Columns are documented in docs/journal.md.
-- 1. `covered`: an event whose every action another event holds is recorded as covered by that event (`covered_by`),
--    not `done` — `done` means this event acted. SQLite cannot change a CHECK constraint, so the table is rebuilt.
CREATE TABLE events_next (
  event_key TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  event_type TEXT NOT NULL,
  subject TEXT,
  received_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('received', 'running', 'done', 'failed', 'ignored', 'self', 'covered')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error_code TEXT,
  last_error_message TEXT,
  raw_body TEXT NOT NULL,
  finished_at INTEGER,
  updated_at INTEGER NOT NULL,
  replays INTEGER NOT NULL DEFAULT 0,
  result TEXT,
  external_id TEXT,
  covered_by TEXT
);
INSERT INTO events_next (event_key, source, event_type, subject, received_at, status, attempts, last_error_code,
  last_error_message, raw_body, finished_at, updated_at, replays, result, external_id)
  SELECT event_key, source, event_type, subject, received_at, status, attempts, last_error_code, last_error_message,
    raw_body, finished_at, updated_at, replays, result, external_id FROM events;
DROP TABLE events;
ALTER TABLE events_next RENAME TO events;
CREATE INDEX IF NOT EXISTS events_status_received ON events (status, received_at);
CREATE INDEX IF NOT EXISTS events_type_received ON events (event_type, received_at);
-- Events settled before this migration as `done` with nothing done ("already claimed by event …") were covered.
UPDATE events SET status = 'covered' WHERE status = 'done' AND attempts = 0 AND result LIKE '%"skipped":true%'
  AND result NOT LIKE '%"skipped":false%';
-- 2. coverage: which actions an event left to their owner, so that when the owner fails for good the events it
--    covered are re-opened (the journal cron) and run.
CREATE TABLE IF NOT EXISTS coverage (
  action_key TEXT NOT NULL,
  event_key TEXT NOT NULL,
  PRIMARY KEY (action_key, event_key)
);
CREATE INDEX IF NOT EXISTS coverage_by_event ON coverage (event_key);
-- 3. effect_entries: each time a run entered a non-idempotent step (creating an organization), before it called
--    Logto. A second entry means the outcome of the first is unknown (a timeout, a crash, a takeover): look first.
CREATE TABLE IF NOT EXISTS effect_entries (
  effect_key TEXT PRIMARY KEY,
  entries INTEGER NOT NULL,
  first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  previous_at INTEGER
);
-- 4. watermarks: the newest ordered event applied per subject (Stripe subscriptions), kept where users cannot write.
CREATE TABLE IF NOT EXISTS watermarks (
  scope TEXT NOT NULL,
  subject TEXT NOT NULL,
  position INTEGER NOT NULL,
  event_key TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (scope, subject)
);
