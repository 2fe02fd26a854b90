import * as v from 'valibot';

/**
 * The schema features the project uses, in valibot (its validator): the same schema as ./zod-mini.ts, for
 * `npm run bench -- size` to build side by side. Not part of the Worker.
 */
const name = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.minLength(1),
  v.maxLength(128),
  v.regex(/^[a-z]/),
);
const schema = v.looseObject({
  createdAt: v.pipe(v.string(), v.isoTimestamp()),
  kind: v.picklist(['a', 'b']),
  exact: v.literal('x'),
  names: v.optional(v.pipe(v.array(name), v.minLength(1)), ['a']),
  strict: v.optional(
    v.objectWithRest(
      { count: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(9)), 1) },
      v.never(),
    ),
  ),
  share: v.nullable(v.pipe(v.number(), v.gtValue(0))),
  flag: v.optional(v.boolean()),
  either: v.union([v.string(), v.array(v.string())]),
  map: v.record(v.string(), v.unknown()),
  run: v.custom<() => void>((value) => typeof value === 'function', 'must be a function'),
  endpoint: v.optional(v.pipe(v.string(), v.url())),
});
const checked = v.pipe(
  v.array(schema),
  v.check((list) => list.length < 10, 'at most 9'),
);

export function validate(input: unknown) {
  const parsed = v.safeParse(checked, input);
  return parsed.success
    ? parsed.output
    : parsed.issues.map((issue) => `${v.getDotPath(issue)}: ${issue.type}`);
}
