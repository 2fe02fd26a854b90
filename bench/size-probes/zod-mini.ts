import * as z from 'zod/mini';

/**
 * The schema features the project uses, in zod's mini build (the validator it used before valibot): the same
 * schema as ./valibot.ts, for `npm run bench -- size` to build side by side. Not part of the Worker.
 */
const name = z.string().check(z.trim(), z.toLowerCase(), z.minLength(1), z.maxLength(128), z.regex(/^[a-z]/));
const schema = z.looseObject({
  createdAt: z.iso.datetime({ offset: true }),
  kind: z.enum(['a', 'b']),
  exact: z.literal('x'),
  names: z._default(z.array(name).check(z.minLength(1)), ['a']),
  strict: z.optional(z.strictObject({ count: z._default(z.int().check(z.gte(0), z.lte(9)), 1) })),
  share: z.nullable(z.number().check(z.gt(0))),
  flag: z.optional(z.boolean()),
  either: z.union([z.string(), z.array(z.string())]),
  map: z.record(z.string(), z.unknown()),
  run: z.custom<() => void>((value) => typeof value === 'function', { message: 'must be a function' }),
  endpoint: z.optional(z.url()),
});
const checked = z.array(schema).check(z.refine((list) => list.length < 10, 'at most 9'));

export function validate(input: unknown) {
  const parsed = checked.safeParse(input);
  return parsed.success
    ? parsed.data
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.code}`);
}
