/** Types for bench/size-build.mjs (Node-only: wrangler, esbuild, gzip). */
export interface WorkerBundle {
  code: string;
  map: { sources: string[]; mappings: string };
  meta: {
    outputs: Record<string, { entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>;
  };
}
export const root: string;
export function gzipSize(text: string): number;
export function byteLength(text: string): number;
export function tempDir(): string;
export function absolute(path: string): string;
export function removeDir(dir: string): void;
export function exit(code: number): never;
export function wranglerSettings(): { main: string; keepNames: boolean };
export function wranglerDryRun(
  outdir: string,
): Promise<{ line: string; rawBytes: number; gzipBytes: number; written: boolean }>;
export function bundleWorker(
  entry: string,
  options: { keepNames: boolean; redirects?: Record<string, string> },
): Promise<WorkerBundle>;
