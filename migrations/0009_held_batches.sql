-- Brakes on mass change: a sweep run, a cleanup run or a bulk replay that would act on more users than the
-- configured limit is held here until an operator approves or discards it (admin API or CLI).
-- Columns are documented in docs/journal.md.
CREATE TABLE IF NOT EXISTS held_batches (
  batch_id TEXT PRIMARY KEY,
  -- 'reconcile' | 'cleanup' | 'replay'
  kind TEXT NOT NULL,
  -- collecting (a scan run in progress) → released (within the limit) | held → approved → released | discarded
  status TEXT NOT NULL CHECK (status IN ('collecting', 'held', 'approved', 'released', 'discarded')),
  item_count INTEGER NOT NULL DEFAULT 0,
  -- Why it is held, e.g. "312 users > limit 50".
  reason TEXT,
  created_at INTEGER NOT NULL,
  decided_at INTEGER,
  -- The admin token's subject (an M2M app ID) that approved or discarded it.
  decided_by TEXT
);
CREATE INDEX IF NOT EXISTS held_batches_status ON held_batches (status, created_at);

-- One row per event a batch would start (a scan's candidate, not journaled until released) or re-open (a replay).
CREATE TABLE IF NOT EXISTS held_items (
  batch_id TEXT NOT NULL,
  event_key TEXT NOT NULL,
  subject TEXT,
  event_type TEXT NOT NULL,
  -- The preview: who and what, JSON ({"user": "…", "automations": ["…"]}).
  preview TEXT NOT NULL,
  -- A scan candidate's journal event (JSON); NULL for a replay (the event is in the journal already).
  new_event TEXT,
  -- Set when the item was journaled or re-opened (release happens in bounded chunks).
  released_at INTEGER,
  PRIMARY KEY (batch_id, event_key)
);
