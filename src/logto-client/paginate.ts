import type { Requester } from './request';

/** Logto rejects `page_size` above 100 with 400 `guard.invalid_pagination`. */
export const MAX_PAGE_SIZE = 100;

/**
 * Iterates every item of a paginated Logto list. Pages are requested by number (`page`, `page_size`) until
 * `Total-Number` items were seen or a short/empty page arrives. `Link` headers are ignored on purpose: a real
 * Logto omits the `/api` prefix in them (logto-reference.md §0).
 */
export async function* paginate<T>(
  request: Requester,
  path: string,
  query: URLSearchParams = new URLSearchParams(),
  pageSize = MAX_PAGE_SIZE,
): AsyncGenerator<T, void, undefined> {
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new RangeError(`pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  let seen = 0;
  for (let page = 1; ; page++) {
    const params = new URLSearchParams(query);
    params.set('page', String(page));
    params.set('page_size', String(pageSize));
    const { data, headers } = await request<T[]>('GET', path, { query: params });
    yield* data;
    seen += data.length;
    const total = headers.get('total-number');
    if (data.length < pageSize || (total !== null && seen >= Number(total))) return;
  }
}
