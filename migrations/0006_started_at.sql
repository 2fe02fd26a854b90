-- When the run starter created the event's Workflow instance (NULL: not started yet). The journal is the run
-- starter's queue: it starts `received` events whose started_at is NULL, and the cron restarts those still
-- `received` a minute after they were started. Re-opening an event clears it. Columns are documented in docs/journal.md.
ALTER TABLE events ADD COLUMN started_at INTEGER;
