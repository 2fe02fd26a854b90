import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** A Logto-shaped error body: `{ message, code, data? }` (L `errors/RequestError`). */
export function logtoError(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  data?: unknown,
) {
  return c.json(data === undefined ? { message, code } : { message, code, data }, status);
}

/** Reads a JSON body like Logto: bad JSON → 400 `{message}`; a non-object → 400 `guard.invalid_input`. */
export async function readJson(c: Context): Promise<Record<string, unknown> | Response> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = text ? JSON.parse(text) : {};
  } catch {
    return c.json({ message: 'Unexpected token in JSON' }, 400);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return logtoError(c, 400, 'guard.invalid_input', 'The request body is invalid.');
  }
  return value as Record<string, unknown>;
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * Paginates like Logto's koa-pagination: `page` ≥ 1, `page_size` 1–100, `Total-Number`, and one `Link` header per
 * relation whose URL omits the `/api` prefix, as a real Logto 1.42 does. `optional` routes return every item, with
 * no headers, when neither parameter is given.
 */
export function paginated<T>(c: Context, items: T[], optional = false): Response {
  const pageRaw = c.req.query('page');
  const sizeRaw = c.req.query('page_size');
  if (optional && pageRaw === undefined && sizeRaw === undefined) return c.json(items);
  const page = Number(pageRaw ?? 1);
  const size = Number(sizeRaw ?? 20);
  if (!Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1 || size > 100) {
    return logtoError(c, 400, 'guard.invalid_pagination', 'The pagination value is not valid.');
  }
  const total = items.length;
  const last = Math.max(1, Math.ceil(total / size));
  c.header('Total-Number', String(total));
  const url = new URL(c.req.url);
  const link = (target: number, rel: string) => {
    const query = new URLSearchParams(url.search);
    query.set('page', String(target));
    const pathWithoutApi = url.pathname.replace(/^\/api/, '');
    c.header('Link', `<${url.origin}${pathWithoutApi}?${query}>; rel="${rel}"`, { append: true });
  };
  link(1, 'first');
  if (page > 1) link(page - 1, 'prev');
  if (page < last) {
    link(last, 'last');
    link(page + 1, 'next');
  }
  return c.json(items.slice((page - 1) * size, page * size));
}

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A random lowercase alphanumeric ID like Logto's (users 12 chars, roles 21). */
export function generateId(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return [...bytes].map((byte) => ID_ALPHABET[byte % ID_ALPHABET.length]).join('');
}
