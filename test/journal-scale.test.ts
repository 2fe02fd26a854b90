import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createJournal, type ListFilter } from '../src/journal';

/**
 * The console's event list at 100,000 rows: every filter it offers reads one index range in order (no full scan, no
 * sort of the whole table), so a page costs the same at 100 rows as at 100,000.
 */
const ROWS = 100_000;
const journal = createJournal(env.JOURNAL);

beforeAll(async () => {
  // 100,000 events over ~3 months: a mix of statuses, types, sources and 5,000 users (one statement).
  await env.JOURNAL.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS})
     INSERT INTO events (event_key, source, event_type, subject, received_at, status, raw_body, updated_at, arrived_via)
     SELECT printf('%064x', i), CASE i % 7 WHEN 0 THEN 'stripe' ELSE 'logto' END,
       CASE i % 3 WHEN 0 THEN 'PostRegister' WHEN 1 THEN 'User.Created' ELSE 'Organization.Created' END,
       'user-' || (i % 5000), 1790000000000 + i * 80000,
       CASE i % 50 WHEN 0 THEN 'failed' WHEN 1 THEN 'covered' ELSE 'done' END,
       '{"event":"User.Created","data":{"id":"user"}}', 1790000000000 + i * 80000, 'delivered'
     FROM n`,
  ).run();
}, 120_000);

const filters: [string, ListFilter][] = [
  ['newest first', {}],
  ['by status', { status: 'failed' }],
  ['by type', { eventType: 'PostRegister' }],
  ['by user', { subject: 'user-42' }],
  ['by source', { source: 'stripe' }],
  ['by time range', { since: 1790000000000 + 50_000 * 80000, until: 1790000000000 + 60_000 * 80000 }],
];

describe(`the event list at ${ROWS.toLocaleString('en')} rows`, () => {
  for (const [name, filter] of filters) {
    it(`${name}: a page and the next are index reads, fast`, async () => {
      const started = Date.now();
      const first = await journal.events.list({ ...filter, limit: 10 });
      const second = await journal.events.list({ ...filter, limit: 10, cursor: first.nextCursor });
      const elapsed = Date.now() - started;
      expect(first.entries.length).toBeGreaterThan(0);
      expect(first.nextCursor).toBeDefined();
      // Keyset paging: the second page starts strictly after the first.
      const last = first.entries.at(-1);
      expect(second.entries.every((entry) => (last ? entry.receivedAt <= last.receivedAt : true))).toBe(true);
      expect(
        second.entries.some((entry) => first.entries.some((seen) => seen.eventKey === entry.eventKey)),
      ).toBe(false);
      expect(elapsed).toBeLessThan(500);
    });
  }

  it('no filter scans the table or sorts all of it', async () => {
    for (const [name, filter] of filters) {
      const { sql, values } = journal.events.listQuery({ ...filter, limit: 50 });
      // And the next page's statement (the keyset cursor), as the console runs it.
      const { results } = await env.JOURNAL.prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .bind(...values)
        .all<{ detail: string }>();
      const plan = results.map((row) => row.detail).join(' | ');
      expect(plan, name).not.toMatch(/^SCAN events$|SCAN events(?! USING)|USE TEMP B-TREE FOR ORDER BY/);
    }
  });
});
