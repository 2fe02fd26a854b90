import type { EmulatedUser } from './store';

/** The fields Logto's user search covers (L `routes/admin-user/search.ts`). */
const SEARCHABLE = ['id', 'primaryEmail', 'primaryPhone', 'username', 'name'] as const;
const MODES = ['like', 'exact', 'similar_to', 'posix'] as const;
type Mode = (typeof MODES)[number];

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** SQL LIKE → RegExp (`%` any run, `_` one character, whole string). */
function likeToRegex(pattern: string, flags: string): RegExp {
  const body = [...pattern].map((ch) => (ch === '%' ? '.*' : ch === '_' ? '.' : escapeRegex(ch))).join('');
  return new RegExp(`^${body}$`, flags);
}

/** SQL SIMILAR TO → RegExp: LIKE wildcards plus regex alternation and classes, anchored. */
function similarToRegex(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern.replace(/%/g, '.*').replace(/_/g, '.')})$`);
}

function matches(value: string | null, wanted: string[], mode: Mode, caseSensitive: boolean): boolean {
  if (value === null) return false;
  const flags = caseSensitive ? '' : 'i';
  return wanted.some((item) => {
    if (mode === 'exact') return caseSensitive ? value === item : value.toLowerCase() === item.toLowerCase();
    if (mode === 'like') return likeToRegex(item, flags).test(value);
    if (mode === 'similar_to') return similarToRegex(item).test(value);
    return new RegExp(item, flags).test(value);
  });
}

export type SearchFilter =
  | { ok: true; test: (user: EmulatedUser) => boolean }
  | { ok: false; message: string };

/**
 * Parses Logto's user search query (`search`, `search.<field>`, `mode`, `mode.<field>`, `joint`/`jointMode`,
 * `isCaseSensitive`) into a predicate; bad syntax is reported like Logto's 400 `request.invalid_input`.
 */
export function parseUserSearch(query: URLSearchParams): SearchFilter {
  const caseSensitive = query.get('isCaseSensitive') === 'true';
  const joint = query.get('joint') ?? query.get('jointMode') ?? 'or';
  if (joint !== 'or' && joint !== 'and') return { ok: false, message: `invalid joint mode "${joint}"` };
  const globalMode = (query.get('mode') ?? 'like') as Mode;
  const conditions: ((user: EmulatedUser) => boolean)[] = [];
  for (const key of new Set(query.keys())) {
    const [prefix, field, ...rest] = key.split('.');
    if (prefix === 'mode' && field) {
      if (!(SEARCHABLE as readonly string[]).includes(field))
        return { ok: false, message: `unknown field ${field}` };
      continue;
    }
    if (prefix !== 'search') continue;
    const values = query.getAll(key);
    if (rest.length > 0) return { ok: false, message: 'only first-level fields are searchable' };
    const fields: readonly string[] = field ? [field] : SEARCHABLE;
    if (field && !(SEARCHABLE as readonly string[]).includes(field)) {
      return { ok: false, message: `unknown field ${field}` };
    }
    const mode = ((field && query.get(`mode.${field}`)) || globalMode) as Mode;
    if (!MODES.includes(mode)) return { ok: false, message: `invalid search mode "${mode}"` };
    if (mode === 'similar_to' && !caseSensitive) {
      return { ok: false, message: 'similar_to mode requires isCaseSensitive=true' };
    }
    if (mode !== 'exact' && values.length > 1)
      return { ok: false, message: 'several values need exact mode' };
    conditions.push((user) =>
      fields.some((name) =>
        matches(user[name as keyof EmulatedUser] as string | null, values, mode, caseSensitive),
      ),
    );
  }
  if (conditions.length === 0) return { ok: true, test: () => true };
  return {
    ok: true,
    test: (user) =>
      joint === 'and' ? conditions.every((fn) => fn(user)) : conditions.some((fn) => fn(user)),
  };
}
