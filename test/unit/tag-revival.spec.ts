import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonSerializer } from '../../lib';

/**
 * The reviver `JsonSerializer` gave JSON.parse before it revived tags with a walk of its own: the reference
 * the walk must agree with on any text, including hostile ones full of tag-shaped objects.
 */
function referenceReviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const object = value as Record<string, unknown>;
  const date = object.$date;
  const escaped = object.$obj;
  const binary = object.$bin;
  if (date === undefined && escaped === undefined && binary === undefined) return value;
  if (Object.keys(object).length !== 1) return value;
  if (typeof date === 'string') return new Date(date);
  if (date === null) return new Date(Number.NaN);
  if (Array.isArray(binary) && binary.length === 2 && typeof binary[1] === 'string') {
    if (binary[0] === 'Buffer') return Buffer.from(binary[1], 'base64');
    if (binary[0] === 'Uint8Array') return new Uint8Array(Buffer.from(binary[1], 'base64'));
  }
  if (Array.isArray(escaped) && escaped.length === 2) {
    switch (escaped[0]) {
      case '$date':
        return { $date: escaped[1] };
      case '$obj':
        return { $obj: escaped[1] };
      case '$bin':
        return { $bin: escaped[1] };
    }
  }
  return value;
}

/** A comparable picture of a decoded value: kinds, own keys in order (`__proto__` included), invalid Dates. */
function picture(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) return { date: Number.isNaN(value.getTime()) ? 'invalid' : value.getTime() };
  if (Buffer.isBuffer(value)) return { buffer: value.toString('hex') };
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value).toString('hex') };
  if (Array.isArray(value)) return value.map(picture);
  return { proto: Object.getPrototypeOf(value) === Object.prototype, entries: Object.keys(value).map((key) => [key, picture((value as Record<string, unknown>)[key])]) };
}

const tagKey = fc.constantFrom('$date', '$obj', '$bin', '__proto__', 'a', 'b');
const leaf = fc.oneof(
  fc.constantFrom('2024-01-02T03:04:05.678Z', 'not a date', 'aGk=', 'Buffer', 'Uint8Array', '$date', '$obj', '$bin', '__proto__'),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
);
const tree = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(tagKey, tie('node'), { maxKeys: 3 }),
    tie('node').map((inner) => ({ $date: inner })),
    tie('node').map((inner) => ({ $bin: ['Buffer', inner] })),
    fc.tuple(fc.constantFrom('$date', '$obj', '$bin', 'a'), tie('node')).map(([key, inner]) => ({ $obj: [key, inner] })),
  ),
})).node;

describe('reviving tags without a JSON.parse reviver', () => {
  const serializer = new JsonSerializer();

  it('gives what the reviver gave for any tagged text, tag-shaped objects and __proto__ keys included', () => {
    fc.assert(
      fc.property(tree, (value) => {
        const json = JSON.stringify(value);
        const expected = JSON.parse(json, referenceReviver);
        // Long enough text is scanned first, so both ways of reading it are covered.
        for (const text of [`~${json}`, `~${json}${' '.repeat(1100)}`]) {
          expect(picture(serializer.deserialize(text))).toEqual(picture(expected));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('revives a tag at the top level, and one ahead of a long run of untagged data', () => {
    expect(serializer.deserialize('~{"$date":"1970-01-01T00:00:00.000Z"}')).toEqual(new Date(0));
    const back = serializer.deserialize(`~{"first":{"$date":"1970-01-01T00:00:00.000Z"},"items":[${'{"n":1},'.repeat(200)}{"n":2}]}`) as { first: Date };
    expect(back.first).toEqual(new Date(0));
  });
});
