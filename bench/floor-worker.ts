import { Hono } from 'hono';

/**
 * The two baselines the ingress benchmark runs beside the project, in the same runtime: `/bare` answers 200 and does
 * nothing; `/floor` is the durable floor — it answers after one D1 insert of the raw body, the least any receiver
 * that never loses an answered event must do.
 */
const app = new Hono<{ Bindings: { FLOOR_DB: D1Database } }>();
app.post('/bare', (c) => c.json({ ok: true }));
app.post('/floor', async (c) => {
  const body = await c.req.text();
  await c.env.FLOOR_DB.prepare('INSERT INTO deliveries (body, received_at) VALUES (?1, ?2)')
    .bind(body, Date.now())
    .run();
  return c.json({ ok: true }, 202);
});

export default app;
