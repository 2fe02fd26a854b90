-- Act once per subject: one row per automation action (e.g. "signup-roles:<userId>"), claimed by the event that
-- performs it. One sign-up fires User.Created and PostRegister; whichever claims first acts, the other skips.
-- Replays: how many times an operator restarted an event (each run is a new Workflow instance id).
-- Columns are documented in docs/journal.md.
CREATE TABLE IF NOT EXISTS actions (
  action_key TEXT PRIMARY KEY,
  event_key TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('claimed', 'done')),
  detail TEXT,
  claimed_at INTEGER NOT NULL,
  done_at INTEGER
);
ALTER TABLE events ADD COLUMN replays INTEGER NOT NULL DEFAULT 0;
