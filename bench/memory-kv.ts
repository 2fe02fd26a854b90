/**
 * An in-memory KV namespace for benchmarks in Node: the subset the token cache uses, on an injected clock, with
 * KV's rules (a TTL under 60 s is rejected) and a per-operation latency, like a KV read at the edge.
 */
export function createMemoryKv(options: { now: () => number; latencyMs: number }) {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const pause = () => new Promise<void>((resolve) => setTimeout(resolve, options.latencyMs));
  let operations = 0;
  const kv = {
    async get(key: string, type?: 'text' | 'json') {
      operations++;
      await pause();
      const entry = entries.get(key);
      if (!entry || entry.expiresAt <= options.now()) return null;
      return type === 'json' ? JSON.parse(entry.value) : entry.value;
    },
    async put(key: string, value: string, put: { expirationTtl?: number } = {}) {
      operations++;
      if (put.expirationTtl !== undefined && put.expirationTtl < 60) {
        throw new Error(`KV PUT failed: 400 Invalid expiration_ttl of ${put.expirationTtl}`);
      }
      await pause();
      entries.set(key, { value, expiresAt: options.now() + (put.expirationTtl ?? 1e9) * 1000 });
    },
    async delete(key: string) {
      operations++;
      await pause();
      entries.delete(key);
    },
  };
  return { kv: kv as unknown as KVNamespace, operations: () => operations };
}
