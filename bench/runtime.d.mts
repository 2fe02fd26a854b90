/** Types for bench/runtime.mjs (Node-only: it bundles and starts Miniflare). */
interface Fetcher {
  fetch(input: string, init?: RequestInit): Promise<Response>;
  /** Runs the worker's `scheduled` handler for `cron`. */
  scheduled(options: { cron: string }): Promise<{ outcome: string }>;
}
export function startRuntime(options: {
  vars: Record<string, string>;
  /** The Worker module to run (default: the production Worker with no recipes). */
  entry?: string;
  /** Extra workers (separate isolates) bound to the project's governor object. */
  callers?: { name: string; entry: string; vars?: Record<string, string> }[];
}): Promise<{
  url: string;
  project: Fetcher;
  floor: Fetcher;
  callers: Fetcher[];
  journal: D1Database;
  close(): Promise<void>;
}>;
