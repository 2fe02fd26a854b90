-- Alerts (src/alerts): one row per cause an operator is told about, so each cause is announced once and its
-- resolution once, whatever number of cron invocations see it. Columns are documented in docs/journal.md.
CREATE TABLE IF NOT EXISTS alerts (
  -- What is wrong: failure:["<event type>","<code>"], recovery:<hook ID>, backlog, batch:<batch ID>.
  cause TEXT PRIMARY KEY,
  -- 'failure' | 'recovery' | 'backlog' | 'batch'
  kind TEXT NOT NULL,
  -- open (the cause is present) → resolved (gone); a resolved cause seen again opens a new incident.
  state TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
  -- What the notices say (JSON): identifiers, counts, codes, times; never a payload, an email or a secret.
  data TEXT NOT NULL,
  -- When this incident was first seen (evaluation time, epoch ms); it names the incident in the notices' IDs.
  opened_at INTEGER NOT NULL,
  -- The latest evaluation that saw the cause present: an older view never resolves it.
  seen_at INTEGER NOT NULL,
  resolved_at INTEGER,
  -- When the receiver accepted the open notice, and the resolved notice (NULL: not yet).
  open_sent_at INTEGER,
  resolved_sent_at INTEGER,
  -- A sender's claim on the next notice (epoch ms); a claim that outlives its sender lapses.
  lease_until INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  -- The last failed send: http_<status>, timeout or network.
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS alerts_state ON alerts (state, kind);
