/**
 * `links` (an external account → a Logto user) and `watermarks` (the newest ordered event applied per subject). Kept
 * in D1 because Logto cannot search customData or identities, and because a user may be allowed to write their own
 * customData (Logto's Account API): nothing there is trusted as proof.
 */
import { statements } from './d1';

export function createLinksTable(db: D1Database, now: () => number) {
  const { run, first } = statements(db);
  return {
    /** Links an external account (a Stripe customer, a GitHub user ID) to a Logto user; the latest link wins. */
    async link(provider: string, externalId: string, userId: string): Promise<void> {
      await run(
        `INSERT INTO links (provider, external_id, user_id, linked_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (provider, external_id) DO UPDATE SET user_id = ?3, linked_at = ?4`,
        provider,
        externalId,
        userId,
        now(),
      );
    },
    async linkedUser(provider: string, externalId: string): Promise<string | undefined> {
      const row = await first<{ user_id: string }>(
        'SELECT user_id FROM links WHERE provider = ?1 AND external_id = ?2',
        provider,
        externalId,
      );
      return row?.user_id;
    },
    /**
     * Moves the watermark of `scope`/`subject` to `position` for `eventKey`, never backward (equal positions pass:
     * Stripe times are in seconds; a retry of the event holding it passes too). One statement. True when this event
     * may apply its change.
     */
    async advance(scope: string, subject: string, position: number, eventKey: string): Promise<boolean> {
      const row = await first<{ event_key: string }>(
        `INSERT INTO watermarks (scope, subject, position, event_key, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (scope, subject) DO UPDATE SET position = ?3, event_key = ?4, updated_at = ?5
           WHERE watermarks.position <= ?3 OR watermarks.event_key = ?4
         RETURNING event_key`,
        scope,
        subject,
        position,
        eventKey,
        now(),
      );
      return row?.event_key === eventKey;
    },
    /** The event that holds the watermark of `scope`/`subject`, and its position. */
    async watermark(
      scope: string,
      subject: string,
    ): Promise<{ position: number; eventKey: string } | undefined> {
      const row = await first<{ position: number; eventKey: string }>(
        'SELECT position, event_key AS eventKey FROM watermarks WHERE scope = ?1 AND subject = ?2',
        scope,
        subject,
      );
      return row ?? undefined;
    },
  };
}

export type LinksTable = ReturnType<typeof createLinksTable>;
