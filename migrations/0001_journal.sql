-- The journal: one row per inbound event, the durable record the Worker answers 2xx after.
-- Columns are documented in docs/journal.md.
CREATE TABLE IF NOT EXISTS events (
  event_key TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  event_type TEXT NOT NULL,
  subject TEXT,
  received_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('received', 'running', 'done', 'failed', 'ignored', 'self')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error_code TEXT,
  last_error_message TEXT,
  raw_body TEXT NOT NULL,
  finished_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_status_received ON events (status, received_at);
CREATE INDEX IF NOT EXISTS events_type_received ON events (event_type, received_at);
