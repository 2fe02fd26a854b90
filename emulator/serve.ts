import { serve } from '@hono/node-server';
import type { FaultRule } from './faults';
import { createLogtoEmulator, type LogtoEmulator, type LogtoEmulatorOptions } from './index';

/**
 * Serves the emulator over HTTP on 127.0.0.1 (Node). Port 0 lets the OS pick a free one. The emulator's issuer is
 * the served origin, as a real Logto's is.
 */
export async function serveEmulator(
  port = 0,
  options: LogtoEmulatorOptions & { onAlert?: (alert: { text?: string }) => void } = {},
) {
  let emulator: LogtoEmulator | undefined;
  const alerts: { text?: string }[] = [];
  const server = serve({
    fetch: async (request) => {
      if (!emulator) return new Response('starting', { status: 503 });
      // Dev only: a simulated Experience API sign-up (sends User.Created then PostRegister to the hooks).
      if (request.method === 'POST' && new URL(request.url).pathname === '/__emulator/sign-up') {
        const input = (await request.json().catch(() => ({}))) as Record<string, string>;
        return Response.json(
          await emulator.signUp({ username: input.username, primaryEmail: input.primaryEmail }),
        );
      }
      // Dev only: a stand-in for Slack (ALERT_WEBHOOK_URL): alerts are printed and kept (GET lists them).
      if (new URL(request.url).pathname === '/__emulator/alerts') {
        if (request.method === 'GET') return Response.json({ alerts });
        if (request.method === 'POST') {
          const alert = (await request.json().catch(() => ({}))) as { text?: string };
          alerts.push(alert);
          options.onAlert?.(alert);
          return new Response('ok');
        }
      }
      // Dev only: break Logto on purpose (a fault rule, see emulator/faults.ts) and mend it (DELETE).
      if (new URL(request.url).pathname === '/__emulator/faults') {
        if (request.method === 'DELETE') {
          emulator.faults.clear();
          return Response.json({ faults: 'cleared' });
        }
        if (request.method === 'POST') {
          const rule = (await request.json().catch(() => undefined)) as FaultRule | undefined;
          if (!rule || typeof rule.target !== 'string')
            return Response.json(
              { error: 'give a rule: {"target": "POST /api/organizations", "status": 500}' },
              { status: 400 },
            );
          emulator.faults.add(rule);
          return Response.json({ added: rule });
        }
      }
      return emulator.app.fetch(request);
    },
    hostname: '127.0.0.1',
    port,
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const address = server.address() as { port: number };
  emulator = await createLogtoEmulator({ ...options, endpoint: `http://127.0.0.1:${address.port}` });
  return {
    emulator,
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
