-- Journal retention (src/journal/retention.ts, JOURNAL_REDACT_AFTER_DAYS / JOURNAL_DELETE_AFTER_DAYS). Columns are
-- documented in docs/journal.md ("What is stored and for how long").
-- Uses only tables from 0001–0007: on a fresh database this file runs before 0009 and 0010.

-- When retention replaced the event's body (and result, error message) with the marker: NULL while intact.
ALTER TABLE events ADD COLUMN redacted_at INTEGER;

-- The rows the redaction looks for, oldest settled first. Partial: only events that ended well and still carry their
-- body, so neither failed events (kept) nor rows already redacted are scanned again every run.
CREATE INDEX IF NOT EXISTS events_to_redact ON events (finished_at, event_key)
  WHERE redacted_at IS NULL AND status IN ('done', 'ignored', 'self', 'covered');

-- The rows the deletion looks for. GitHub rows are never deleted: GitHub signs no timestamp, so the row is what keeps
-- a captured delivery sent again later a duplicate.
CREATE INDEX IF NOT EXISTS events_to_delete ON events (finished_at, event_key)
  WHERE status IN ('done', 'ignored', 'self', 'covered') AND source <> 'github';

-- Done actions whose detail (what was changed in Logto, or a handler's return value) is still kept. The action rows
-- themselves are never deleted: they are what keeps a done action from being done again.
CREATE INDEX IF NOT EXISTS actions_detail_to_redact ON actions (done_at, action_key)
  WHERE status = 'done' AND detail IS NOT NULL;
