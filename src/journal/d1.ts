/**
 * The few D1 helpers the journal's tables share. Reads name their columns as the fields of the record they return
 * (`SELECT event_key AS eventKey, …`): D1 gives INTEGER columns as numbers, TEXT as strings and NULL as null, so a
 * row needs no mapping but the parsing of its JSON columns.
 */

export type Row = Record<string, unknown>;

/** Statements over `db`: `sql` binds `values` to `?1`, `?2`, … in order; the others run the statement at once. */
export function statements(db: D1Database) {
  const sql = (query: string, ...values: unknown[]) => db.prepare(query).bind(...values);
  return {
    sql,
    /** Runs a write; how many rows it changed. */
    run: async (query: string, ...values: unknown[]) => changes(await sql(query, ...values).run()),
    /** The rows a read returns. */
    all: async <T = Row>(query: string, ...values: unknown[]) =>
      (await sql(query, ...values).all<T>()).results,
    /** The first row a read returns (null: none). */
    first: <T = Row>(query: string, ...values: unknown[]) => sql(query, ...values).first<T>(),
  };
}

/** How many rows a write changed (0 for a missing result). */
export const changes = (result: D1Result | undefined) => result?.meta.changes ?? 0;

/** A JSON column's value, parsed (null for NULL). */
export const json = (text: unknown) => (text ? JSON.parse(text as string) : null);

/** A page size from a caller's `limit`: 1–100, default 50. */
export const pageSize = (limit = 50) => Math.min(100, Math.max(1, limit));
