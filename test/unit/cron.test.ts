import { describe, expect, it } from 'vitest';
import { crons, matches } from '../../scripts/cron';
import wranglerToml from '../../wrangler.toml?raw';

describe('npm run dev cron schedule (scripts/cron.ts)', () => {
  it('reads the crons of wrangler.toml', () => {
    expect(crons(wranglerToml)).toEqual(['* * * * *', '*/5 * * * *', '*/15 * * * *', '17 3 * * *']);
  });

  it('matches minutes, steps and fixed times in UTC', () => {
    const at = (iso: string) => new Date(iso);
    expect(matches('* * * * *', at('2026-12-04T10:07:00Z'))).toBe(true);
    expect(matches('*/5 * * * *', at('2026-12-04T10:10:00Z'))).toBe(true);
    expect(matches('*/5 * * * *', at('2026-12-04T10:11:00Z'))).toBe(false);
    expect(matches('*/15 * * * *', at('2026-12-04T10:45:30Z'))).toBe(true);
    expect(matches('17 3 * * *', at('2026-12-04T03:17:00Z'))).toBe(true);
    expect(matches('17 3 * * *', at('2026-12-04T04:17:00Z'))).toBe(false);
    expect(matches('0 9 * * 1-5', at('2026-12-05T09:00:00Z'))).toBe(false); // a Saturday
    expect(matches('not a cron', at('2026-12-05T09:00:00Z'))).toBe(false);
  });
});
