-- The operator console (src/console). Columns are documented in docs/journal.md.
-- Events by user, newest first (the console's user filter and search).
CREATE INDEX IF NOT EXISTS events_subject_received ON events (subject, received_at, event_key);
-- The list's other orders: newest first over everything, and by source; status and type get event_key too, so the
-- list's ORDER BY (received_at, event_key) is read from the index, never sorted (docs/journal.md).
CREATE INDEX IF NOT EXISTS events_received ON events (received_at, event_key);
CREATE INDEX IF NOT EXISTS events_source_received ON events (source, received_at, event_key);
DROP INDEX IF EXISTS events_status_received;
CREATE INDEX IF NOT EXISTS events_status_received_key ON events (status, received_at, event_key);
DROP INDEX IF EXISTS events_type_received;
CREATE INDEX IF NOT EXISTS events_type_received_key ON events (event_type, received_at, event_key);
-- Failure groups: failed events by cause.
CREATE INDEX IF NOT EXISTS events_failed_cause ON events (status, event_type, last_error_code);

-- Console sessions: one row per signed-in operator (Logto sign-in, authorization code + PKCE). The cookie holds a
-- random ID; only its SHA-256 is stored.
CREATE TABLE IF NOT EXISTS console_sessions (
  session_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  display TEXT NOT NULL,
  -- Sent back with every form (and compared) besides the SameSite cookie.
  csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  -- When the operator's access (CONSOLE_USER_IDS, or a role in CONSOLE_ROLE_NAMES read from Logto) was last checked:
  -- a removed operator is signed out within minutes, not at expiry.
  checked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS console_sessions_expiry ON console_sessions (expires_at);

-- The run timeline: one row per Management API call attempt of a run (src/workflow/call.ts).
CREATE TABLE IF NOT EXISTS run_calls (
  event_key TEXT NOT NULL,
  -- The run (the event's replay count when it ran).
  run INTEGER NOT NULL,
  step TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  -- 'ok' | 'error'
  outcome TEXT NOT NULL,
  -- Logto's error code (or the client's: timeout, network, governor_busy), null when ok.
  code TEXT,
  http_status INTEGER,
  started_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS run_calls_event ON run_calls (event_key, started_at);
