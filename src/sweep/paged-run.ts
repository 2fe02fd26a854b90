import type { Journal, ScanState } from '../journal';
import { MAX_PAGE_SIZE } from '../logto-client';

/**
 * A paged read of Logto kept in a scan state row (`sweep_state`): the user scans (src/sweep/index.ts) and the hook-log
 * recovery (src/sweep/recovery.ts). A run reads a fixed window page by page, saves its progress after every page so
 * an interrupted run resumes where it stopped, and moves the cursor only when it read the last page.
 */

type Store = Pick<Journal['scans'], 'get' | 'put'>;

/** A cron's Logto call waits this long at most for a rate-governor slot (it runs in a cron, not a request). */
export const CRON_GOVERNOR_WAIT_MS = 30_000;

/** The fields of a state row with no run under way. */
const NO_RUN = { runStartedAt: null, runUpper: null, scannedDownTo: null, resumePage: null };

/** The saved state row `name`, or a new one whose first run reads from `cursor`. */
export async function savedState(store: Store, name: string, cursor: number): Promise<ScanState> {
  return (
    (await store.get(name)) ?? {
      name,
      cursor,
      ...NO_RUN,
      scanned: 0,
      queued: 0,
      lastFinishedAt: null,
      lastReport: null,
    }
  );
}

/** `Total-Number` of a Logto list answer, or null when it has none (or not a number). */
export function totalOf(headers: Headers): number | null {
  const total = Number(headers.get('total-number'));
  return headers.has('total-number') && Number.isFinite(total) ? total : null;
}

/**
 * Runs `state`'s run: the one under way, or a new one started at `startedAt` up to `upper` (callers pass
 * `state.runStartedAt ?? now` and `state.runUpper ?? <new upper>`). Reads pages (of {@link MAX_PAGE_SIZE}, with
 * `params`) from where the run stopped until `read` says it read the last one or `maxPages` pages were read,
 * counting them in `report`. Progress is saved after each page that was not the last: a resumed run starts at that
 * page again (`reread`: the pages may have shifted since) or at the next one. Once the last page is read the run
 * ends: `lastReport(at)` is recorded and the cursor moves to `upper`.
 */
export async function pagedRun(
  store: Store,
  state: ScanState,
  report: { pages: number; finished: boolean },
  run: {
    startedAt: number;
    upper: number;
    params?: Record<string, string>;
    maxPages: number;
    reread: boolean;
    now: () => number;
  },
  read: (query: URLSearchParams, page: number) => Promise<boolean>,
  lastReport: (at: number) => unknown,
): Promise<void> {
  if (state.runStartedAt === null)
    Object.assign(state, {
      runStartedAt: run.startedAt,
      runUpper: run.upper,
      scannedDownTo: null,
      resumePage: null,
      scanned: 0,
      queued: 0,
    });
  for (let page = state.resumePage ?? 1; report.pages < run.maxPages; page++) {
    report.pages++;
    const query = new URLSearchParams({
      ...run.params,
      page: String(page),
      page_size: String(MAX_PAGE_SIZE),
    });
    if (await read(query, page)) {
      report.finished = true;
      break;
    }
    state.resumePage = run.reread ? page : page + 1;
    await store.put(state);
  }
  if (report.finished) {
    const at = run.now();
    state.lastReport = lastReport(at);
    Object.assign(state, { cursor: run.upper, ...NO_RUN, lastFinishedAt: at });
  }
  await store.put(state);
}
