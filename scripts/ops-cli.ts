/**
 * `npm run ops -- <command>`: the admin API from a terminal. Runtime-neutral (only `fetch`), so tests run it
 * inside workerd against the Worker; `scripts/replay.mjs` runs it in Node.
 *
 * Environment (or flags): AUTOMATIONS_URL (--url), the Worker's origin; either ADMIN_TOKEN (--token), or
 * ADMIN_CLIENT_ID + ADMIN_CLIENT_SECRET + ADMIN_API_RESOURCE + LOGTO_ENDPOINT (or LOGTO_TENANT_ID) to obtain one with
 * client_credentials.
 */

export const USAGE = `usage: npm run ops -- <command> [options]
  list   [--status S] [--type T] [--source S] [--user ID] [--via delivered|recovered|sweep]
         [--since TIME] [--until TIME] [--limit N] [--all]
  show   <eventKey>
  replay <eventKey> [<eventKey> …]
  failed [--since TIME] [--until TIME] [--type T] [--dry-run]
                                                       replay every failed event in the range (--dry-run: count)
  recover                                              read Logto's hook logs now; journal what was not delivered
  batches [--status held|approved|released|discarded]  held mass changes (brakes)
  batch   <batchId>                                    a batch and its preview (who, what)
  approve <batchId>                                    act on a held batch
  discard <batchId>                                    drop a held batch (nothing is done)
TIME: ISO 8601 or epoch ms. Environment: AUTOMATIONS_URL, and ADMIN_TOKEN or ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET,
ADMIN_API_RESOURCE with LOGTO_ENDPOINT or LOGTO_TENANT_ID.`;

export interface CliIo {
  env: Record<string, string | undefined>;
  fetch: typeof fetch;
  print: (line: string) => void;
  /** A progress bar for long operations (the Node entry draws one with cli-progress on a terminal). */
  progress?: (label: string, total: number) => { update(done: number): void; stop(): void };
}

/** Flags that take no value. */
const SWITCHES = ['all', 'dry-run', 'help'];

type Held = { batchId: string; count: number; reason: string };
const heldLine = (held: Held) =>
  `held as batch ${held.batchId}: ${held.count} event(s), ${held.reason}; nothing was replayed. ` +
  `Check it with \`npm run ops -- batch ${held.batchId}\`, then approve or discard it.`;

function parse(argv: string[]) {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const next = argv[i + 1];
    if (inline !== undefined) flags[name] = inline;
    else if (next !== undefined && !next.startsWith('--') && !SWITCHES.includes(name)) {
      flags[name] = next;
      i++;
    } else flags[name] = true;
  }
  return { command: positional[0], args: positional.slice(1), flags };
}

class CliError extends Error {}

async function obtainToken(io: CliIo, flags: Record<string, string | true>): Promise<string> {
  const given = typeof flags.token === 'string' ? flags.token : io.env.ADMIN_TOKEN;
  if (given) return given;
  const { ADMIN_CLIENT_ID: id, ADMIN_CLIENT_SECRET: secret, ADMIN_API_RESOURCE: resource } = io.env;
  const endpoint =
    io.env.LOGTO_ENDPOINT || (io.env.LOGTO_TENANT_ID ? `https://${io.env.LOGTO_TENANT_ID}.logto.app` : '');
  if (!id || !secret || !resource || !endpoint) {
    throw new CliError(
      'no credentials: set ADMIN_TOKEN, or ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, ADMIN_API_RESOURCE and LOGTO_ENDPOINT/LOGTO_TENANT_ID',
    );
  }
  const response = await io.fetch(`${endpoint.replace(/\/+$/, '')}/oidc/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource }),
  });
  const body = (await response.json().catch(() => ({}))) as { access_token?: string; error?: string };
  if (!response.ok || !body.access_token) {
    throw new CliError(`Logto refused the token request: ${response.status} ${body.error ?? ''}`.trim());
  }
  return body.access_token;
}

/** Runs one command; returns the process exit code. Never prints a token or a secret. */
export async function runOpsCli(argv: string[], io: CliIo): Promise<number> {
  const { command, args, flags } = parse(argv);
  if (!command || flags.help) {
    io.print(USAGE);
    return command ? 0 : 2;
  }
  try {
    const base = (typeof flags.url === 'string' ? flags.url : io.env.AUTOMATIONS_URL)?.replace(/\/+$/, '');
    if (!base) throw new CliError('set AUTOMATIONS_URL (or --url) to the Worker’s origin');
    const token = await obtainToken(io, flags);
    const call = async (path: string, init: RequestInit = {}) => {
      const response = await io.fetch(`${base}/admin${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
      const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (!response.ok) throw new CliError(`${response.status} ${JSON.stringify(body)}`);
      return body;
    };
    const text = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);

    if (command === 'list') {
      const query = new URLSearchParams();
      for (const name of ['status', 'type', 'source', 'user', 'via', 'since', 'until', 'limit']) {
        const value = text(name);
        if (value) query.set(name, value);
      }
      let cursor: string | null = null;
      let total = 0;
      do {
        if (cursor) query.set('cursor', cursor);
        const page = (await call(`/events?${query}`)) as {
          events: {
            eventKey: string;
            status: string;
            eventType: string;
            subject: string | null;
            receivedAt: number;
            lastErrorCode: string | null;
          }[];
          nextCursor: string | null;
        };
        for (const event of page.events) {
          io.print(
            [
              new Date(event.receivedAt).toISOString(),
              event.status.padEnd(8),
              event.eventType.padEnd(28),
              event.subject ?? '-',
              event.eventKey,
              event.lastErrorCode ?? '',
            ]
              .join('  ')
              .trimEnd(),
          );
        }
        total += page.events.length;
        cursor = page.nextCursor;
      } while (cursor && flags.all);
      io.print(`${total} event(s)${cursor ? ' (more: --all)' : ''}`);
      return 0;
    }
    if (command === 'show') {
      if (!args[0]) throw new CliError('show needs an event key');
      io.print(JSON.stringify(await call(`/events/${encodeURIComponent(args[0])}`), null, 2));
      return 0;
    }
    if (command === 'replay') {
      if (args.length === 0) throw new CliError('replay needs at least one event key');
      const result = (await call('/replay', {
        method: 'POST',
        body: JSON.stringify({ eventKeys: args }),
      })) as {
        replayed: string[];
        skipped: { eventKey: string; reason: string }[];
        held?: Held;
      };
      if (result.held) {
        io.print(heldLine(result.held));
        return 0;
      }
      io.print(`replayed ${result.replayed.length}, skipped ${result.skipped.length}`);
      for (const skip of result.skipped) io.print(`  skipped ${skip.eventKey}: ${skip.reason}`);
      return result.skipped.length > 0 ? 1 : 0;
    }
    if (command === 'failed') {
      const filter = { status: 'failed', since: text('since'), until: text('until'), type: text('type') };
      if (flags['dry-run']) {
        const count = (await call('/replay', {
          method: 'POST',
          body: JSON.stringify({ ...filter, dryRun: true }),
        })) as { count: number; capped: boolean; wouldHold: boolean; maxUsers: number };
        io.print(
          `${count.count}${count.capped ? '+' : ''} failed event(s) would be replayed` +
            (count.wouldHold ? ` (more than maxUsers ${count.maxUsers}: held for approval)` : ''),
        );
        return 0;
      }
      let replayed = 0;
      const { count: total } = (await call('/replay', {
        method: 'POST',
        body: JSON.stringify({ ...filter, dryRun: true }),
      })) as { count: number };
      const bar = total > 0 ? io.progress?.('replaying failed events', total) : undefined;
      for (;;) {
        const result = (await call('/replay', { method: 'POST', body: JSON.stringify(filter) })) as {
          replayed: string[];
          remaining: boolean;
          held?: Held;
        };
        if (result.held) {
          bar?.stop();
          io.print(heldLine(result.held));
          return 0;
        }
        replayed += result.replayed.length;
        bar?.update(replayed);
        if (!result.remaining || result.replayed.length === 0) break;
      }
      bar?.stop();
      io.print(`replayed ${replayed} failed event(s)`);
      return 0;
    }
    if (command === 'recover') {
      const result = (await call('/recover', { method: 'POST' })) as {
        hooks: {
          hookId: string;
          entries: number;
          failedDeliveries: number;
          recovered: number;
          finished: boolean;
        }[];
      };
      for (const hook of result.hooks) {
        io.print(
          `hook ${hook.hookId}: ${hook.entries} log entries read, ${hook.failedDeliveries} failed deliveries, ` +
            `${hook.recovered} recovered${hook.finished ? '' : ' (more: run again)'}`,
        );
      }
      if (result.hooks.length === 0) io.print('no hook found to read (check LOGTO_HOOK_IDS or WORKER_URL)');
      return 0;
    }
    if (command === 'batches') {
      const status = text('status');
      const { batches } = (await call(
        `/batches${status ? `?status=${encodeURIComponent(status)}` : ''}`,
      )) as {
        batches: {
          batchId: string;
          kind: string;
          status: string;
          itemCount: number;
          reason: string | null;
          createdAt: number;
        }[];
      };
      for (const batch of batches) {
        io.print(
          [
            new Date(batch.createdAt).toISOString(),
            batch.status.padEnd(10),
            batch.kind.padEnd(9),
            String(batch.itemCount).padStart(6),
            batch.batchId,
            batch.reason ?? '',
          ]
            .join('  ')
            .trimEnd(),
        );
      }
      io.print(`${batches.length} batch(es)`);
      return 0;
    }
    if (command === 'batch') {
      if (!args[0]) throw new CliError('batch needs a batch ID');
      const id = encodeURIComponent(args[0]);
      const first = (await call(`/batches/${id}`)) as {
        batch: { batchId: string; kind: string; status: string; itemCount: number; reason: string | null };
        items: {
          eventKey: string;
          eventType: string;
          preview: { user?: Record<string, unknown>; automations?: string[] };
        }[];
        nextCursor: string | null;
      };
      const { batch } = first;
      io.print(
        `batch ${batch.batchId}: ${batch.kind}, ${batch.status}, ${batch.itemCount} item(s)${batch.reason ? `, ${batch.reason}` : ''}`,
      );
      let page = first;
      for (;;) {
        for (const item of page.items) {
          const user = item.preview.user ?? {};
          const who = [user.id, user.primaryEmail, user.username].filter(Boolean).join(' ');
          const what = item.preview.automations?.join(', ') ?? item.eventType;
          io.print(`  ${who || '-'}  ${what}`);
        }
        if (!page.nextCursor || !flags.all) break;
        page = (await call(`/batches/${id}?cursor=${encodeURIComponent(page.nextCursor)}`)) as typeof first;
      }
      if (page.nextCursor && !flags.all) io.print('  … (all: --all)');
      return 0;
    }
    if (command === 'approve' || command === 'discard') {
      if (!args[0]) throw new CliError(`${command} needs a batch ID`);
      const result = (await call(`/batches/${encodeURIComponent(args[0])}/${command}`, {
        method: 'POST',
      })) as {
        batch: { batchId: string; itemCount: number; status: string };
        released?: number;
        remaining?: boolean;
      };
      io.print(
        command === 'approve'
          ? `approved ${result.batch.batchId}: ${result.released ?? 0} of ${result.batch.itemCount} started now` +
              (result.remaining ? '; the rest within minutes (the minute cron)' : '')
          : `discarded ${result.batch.batchId}: nothing of it will be done`,
      );
      return 0;
    }
    throw new CliError(`unknown command "${command}"\n${USAGE}`);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    io.print(`error: ${error.message}`);
    return 1;
  }
}
