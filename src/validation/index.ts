import * as v from 'valibot';

/**
 * The project's rules on top of valibot, shared by automations.config.ts (src/recipes) and the webhook payloads
 * (src/events). Valibot takes any non-null `typeof 'object'` for an object or a record, and its strict object stops at
 * the first unknown key; here an array is never an object, every unknown key is reported, and an unknown key does
 * not stop the object's own checks (`give at least one condition`).
 */

/** An object that is neither null nor an array (what JSON calls an object). */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The message of the issue each unknown key of a {@link strictObject} gets (grouped by {@link validate}). */
const UNKNOWN_FIELD = 'unknown field';

/** What a required field expects, for the issue of its absence: its schema's own message, or its type. */
const expectedOf = (schema: v.GenericSchema | undefined): string => {
  const message = (schema as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : `expected ${schema?.type ?? 'value'}`;
};

/** The message an object gives a missing required key (valibot reports it on the object, not on the field). */
const missingKey =
  (entries: v.ObjectEntries) =>
  (issue: v.BaseIssue<unknown>): string =>
    expectedOf(entries[String(issue.path?.[0]?.key)]);

/**
 * An object (`expected object` for anything else, arrays too) with `entries`, and `rest` for each other key. Both
 * kinds of object below are built on valibot's object with rest, so the bundle carries one object schema.
 */
const objectWith = <E extends v.ObjectEntries>(entries: E, rest: v.GenericSchema) =>
  v.pipe(
    v.custom<unknown>(isObject, 'expected object'),
    v.objectWithRest(entries, rest, missingKey(entries)),
  );

/** An object that keeps unknown fields (typed as valibot's loose object). */
export const looseObject = <E extends v.ObjectEntries>(entries: E) =>
  objectWith(entries, v.unknown()) as unknown as v.LooseObjectSchema<E, undefined>;

const unknownKey = v.pipe(
  v.unknown(),
  v.check(() => false, UNKNOWN_FIELD),
);

/**
 * An object whose unknown fields are each an issue. Typed as valibot's strict object (no index signature: editors
 * flag a misspelt field); built as an object with a rest whose every entry fails a check, so all unknown keys are
 * reported and the object's own checks still run.
 */
export const strictObject = <E extends v.ObjectEntries>(entries: E) =>
  objectWith(entries, unknownKey) as unknown as v.StrictObjectSchema<E, undefined>;

/** A record: a plain object (not an array, not a class instance) whose keys and values are checked. */
export const record = <
  K extends v.GenericSchema<string, string | number | symbol>,
  V extends v.GenericSchema,
>(
  key: K,
  value: V,
) =>
  v.pipe(
    v.custom<unknown>(
      (input) => isObject(input) && [Object.prototype, null].includes(Object.getPrototypeOf(input)),
      'expected record',
    ),
    v.record(key, value),
  ) as unknown as v.RecordSchema<K, V, undefined>;

/** A finite number (valibot's number takes ±Infinity). */
export const finiteNumber = v.custom<number>(
  (value) => typeof value === 'number' && Number.isFinite(value),
  'expected number',
);

/** A boolean (a custom schema like {@link finiteNumber}: valibot's boolean would add its own code). */
export const booleanValue = v.custom<boolean>((value) => typeof value === 'boolean', 'expected boolean');

/** A safe integer: a non-integer fails the type; beyond ±2^53−1 is out of range. */
export const int = v.pipe(
  finiteNumber,
  v.custom<number>(Number.isInteger, 'expected int'),
  v.minValue(Number.MIN_SAFE_INTEGER),
  v.maxValue(Number.MAX_SAFE_INTEGER),
);

/**
 * A string `pattern` matches, else `message`. (valibot's `check` is in the bundle anyway; `regex` would add its
 * own code for the same test.)
 */
export const matches = (pattern: RegExp, message: string) =>
  v.check((value: string) => pattern.test(value), message);

/** One of `options`; the message lists them. */
export const oneOf = <const T extends readonly [string, ...string[]]>(options: T) =>
  v.picklist(options, `must be one of ${options.map((option) => JSON.stringify(option)).join(', ')}`);

/** An issue's path, dotted (`rolesByRule.0.when`); '' at the root. */
const pathOf = (issue: v.BaseIssue<unknown>): string =>
  (issue.path ?? []).map((item) => String(item.key)).join('.');

/** A short English message for a check valibot reports without one of ours. */
function messageOf(issue: v.BaseIssue<unknown>): string {
  const limit = (issue as { requirement?: unknown }).requirement;
  const unit = typeof issue.input === 'string' ? 'character' : 'item';
  switch (issue.type) {
    case 'min_length':
      return `must have at least ${limit} ${unit}${Number(limit) > 1 ? 's' : ''}`;
    case 'max_length':
      return `must have at most ${limit} ${unit}s`;
    case 'min_value':
      return `must be at least ${limit}`;
    case 'max_value':
      return `must be at most ${limit}`;
    default:
      return `expected ${issue.type}`;
  }
}

export interface Issue {
  path: string;
  message: string;
}

/**
 * Validates `input`; on failure, one short English message per issue, in order: a record key that fails is
 * `is invalid` (its value is then not reported), and the unknown keys of one object are one issue on the object
 * (`unknown fields a, b`).
 */
export function validate<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
): { ok: true; value: v.InferOutput<S> } | { ok: false; issues: Issue[] } {
  const parsed = v.safeParse(schema, input, { message: messageOf });
  if (parsed.success) return { ok: true, value: parsed.output };
  const issues: Issue[] = [];
  const badKeys: string[] = [];
  let unknown: { issue: Issue; keys: string[] } | undefined;
  for (const issue of parsed.issues) {
    const path = pathOf(issue);
    if (badKeys.some((key) => path === key || path.startsWith(`${key}.`))) continue;
    const last = issue.path?.at(-1);
    if (issue.message === UNKNOWN_FIELD && issue.type === 'check') {
      const parent = path.slice(0, Math.max(0, path.length - String(last?.key).length - 1));
      if (unknown?.issue.path !== parent) {
        unknown = { issue: { path: parent, message: '' }, keys: [] };
        issues.push(unknown.issue);
      }
      unknown.keys.push(String(last?.key));
      unknown.issue.message = `${UNKNOWN_FIELD}${unknown.keys.length > 1 ? 's' : ''} ${unknown.keys.join(', ')}`;
      continue;
    }
    unknown = undefined;
    // A record key that fails (a missing required key is reported by its object, whose type the issue carries).
    const badKey = last?.origin === 'key' && issue.type !== 'object_with_rest';
    if (badKey) badKeys.push(path);
    issues.push({ path, message: badKey ? 'is invalid' : issue.message });
  }
  return { ok: false, issues };
}
