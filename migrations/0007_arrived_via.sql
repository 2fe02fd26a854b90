-- How an event reached the Worker: 'delivered' (a live webhook or callback), 'recovered' (read back from Logto's hook
-- log after its delivery failed), 'sweep' (the reconciliation sweep or the cleanup). NULL on rows from before.
-- Columns are documented in docs/journal.md.
ALTER TABLE events ADD COLUMN arrived_via TEXT;
