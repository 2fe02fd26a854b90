import type { Context } from 'hono';

/**
 * The two cookies and the forms the console needs, in a few lines (hono's cookie and body helpers cover every case
 * and cost more than the rest of the console's routing). Values are base64url tokens: no escaping needed.
 */
export function readCookie(c: Context, name: string): string | undefined {
  for (const part of (c.req.header('cookie') ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=') || undefined;
  }
  return undefined;
}

/** HttpOnly, SameSite=Lax, on /console only; Secure when served over https. */
export function writeCookie(c: Context, name: string, value: string, maxAgeSeconds: number): void {
  const secure = new URL(c.req.url).protocol === 'https:' ? '; Secure' : '';
  c.header(
    'Set-Cookie',
    `${name}=${value}; Max-Age=${maxAgeSeconds}; Path=/console; HttpOnly; SameSite=Lax${secure}`,
    { append: true },
  );
}

export const clearCookie = (c: Context, name: string) => writeCookie(c, name, '', 0);

/** A POSTed form (application/x-www-form-urlencoded, what the console's forms send). */
export async function formOf(c: Context): Promise<URLSearchParams> {
  return new URLSearchParams(await c.req.text());
}
