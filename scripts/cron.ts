/**
 * The few cron features wrangler.toml uses here (`*`, `*\/n`, numbers, comma lists; five fields, UTC), for
 * `npm run dev`, which fires the Worker's crons itself (`wrangler dev` runs none).
 */

/** The crons of `[triggers] crons = [...]` in wrangler.toml. */
export function crons(toml: string): string[] {
  const line = /^\s*crons\s*=\s*\[(.*)\]/m.exec(toml)?.[1] ?? '';
  return [...line.matchAll(/"([^"]+)"/g)].map((match) => match[1] ?? '').filter(Boolean);
}

function fieldMatches(field: string, value: number): boolean {
  return field.split(',').some((part) => {
    if (part === '*') return true;
    const step = /^\*\/(\d+)$/.exec(part);
    if (step) return value % Number(step[1]) === 0;
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) return value >= Number(range[1]) && value <= Number(range[2]);
    return /^\d+$/.test(part) && Number(part) === value;
  });
}

/** Does `cron` fire in the minute of `at` (UTC)? */
export function matches(cron: string, at: Date): boolean {
  const [minute, hour, day, month, weekday] = cron.trim().split(/\s+/);
  if (weekday === undefined) return false;
  return (
    fieldMatches(minute ?? '', at.getUTCMinutes()) &&
    fieldMatches(hour ?? '', at.getUTCHours()) &&
    fieldMatches(day ?? '', at.getUTCDate()) &&
    fieldMatches(month ?? '', at.getUTCMonth() + 1) &&
    fieldMatches(weekday, at.getUTCDay())
  );
}
