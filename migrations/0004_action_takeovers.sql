-- An action whose owner event failed may be taken over by another event; remember from whom, so a retried start of
-- the new owner still knows the failed run may have done part of the work. Columns are documented in docs/journal.md.
ALTER TABLE actions ADD COLUMN taken_over_from TEXT;
-- A run releases its own unfinished claims that its plan no longer has (see claimActions): find them by event.
CREATE INDEX IF NOT EXISTS actions_by_event ON actions (event_key, status);
