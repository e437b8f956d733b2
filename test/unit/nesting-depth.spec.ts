import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { CacheSerializationError, DEFAULT_MAX_DEPTH, JsonSerializer, LayeredCacheError } from '../../lib';
import { NESTED_TOO_DEEP, scanJson } from '../../lib/core/json-scan';

/** `levels` arrays within each other around `inner`. */
function nestedArrays(levels: number, inner: unknown = 1): unknown {
  let value = inner;
  for (let level = 0; level < levels; level++) value = [value];
  return value;
}

/** `levels` objects within each other around `inner`. */
function nestedObjects(levels: number, inner: unknown = 1): unknown {
  let value = inner;
  for (let level = 0; level < levels; level++) value = { a: value };
  return value;
}

const arraysText = (levels: number): string => `${'['.repeat(levels)}1${']'.repeat(levels)}`;
const objectsText = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

describe('scanJson', () => {
  it('counts levels of arrays and objects, not brackets inside strings', () => {
    expect(scanJson('[[1]]', 0, 2)).not.toBe(NESTED_TOO_DEEP);
    expect(scanJson('[[[1]]]', 0, 2)).toBe(NESTED_TOO_DEEP);
    expect(scanJson('{"a":{"b":[1]}}', 0, 2)).toBe(NESTED_TOO_DEEP);
    expect(scanJson('["[[[[", "{{{{", "\\"[[[["]', 0, 1)).not.toBe(NESTED_TOO_DEEP);
    expect(scanJson('[1],[2],[3],[4]', 0, 1)).not.toBe(NESTED_TOO_DEEP);
  });

  it('tells an escaped quote from the end of a string, whatever the backslashes before it', () => {
    // "a\\" ends after two backslashes (an escaped backslash), so the brackets that follow are structure.
    expect(scanJson('["a\\\\", [[1]]]', 0, 2)).toBe(NESTED_TOO_DEEP);
    // "a\"[[" goes on after an escaped quote: its brackets are text.
    expect(scanJson('["a\\"[[[[", 1]', 0, 1)).not.toBe(NESTED_TOO_DEEP);
  });

  it('counts the keys that may be tags, from the start it is given', () => {
    expect(scanJson('~{"at":{"$date":"x"},"b":{"$bin":["Buffer",""]},"price":"$5"}', 1, 10)).toBe(2);
    expect(scanJson('{"\\u0024date":"x"}', 0, 10)).toBe(1);
    expect(scanJson('{"a":1}', 0, 10)).toBe(0);
  });

  it('stops at the first level too deep, so a hostile text costs little', () => {
    const text = arraysText(1_000_000);
    const started = performance.now();
    expect(scanJson(text, 0, 1000)).toBe(NESTED_TOO_DEEP);
    expect(performance.now() - started).toBeLessThan(50);
  });
});

describe('JsonSerializer maxDepth', () => {
  const serializer = new JsonSerializer();

  it('defaults to 1 000 levels', () => {
    expect(DEFAULT_MAX_DEPTH).toBe(1000);
    expect(serializer.maxDepth).toBe(1000);
  });

  it.each([
    ['arrays', nestedArrays],
    ['objects', nestedObjects],
  ])('round trips %s nested 1 000 levels deep', (_label, nested) => {
    const value = nested(1000);
    expect(serializer.deserialize(serializer.serialize(value))).toEqual(value);
  });

  it.each([
    ['arrays, 1 001 levels', nestedArrays(1001)],
    ['objects, 1 001 levels', nestedObjects(1001)],
    ['arrays around a Date, 1 000 levels (the Date is one more in the text)', nestedArrays(1000, new Date(0))],
    ['arrays, 100 000 levels', nestedArrays(100_000)],
  ])('refuses to write %s, saying how deep values may be', (_label, value) => {
    const error = thrown(() => serializer.serialize(value));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect((error as Error).message).toMatch(/nested more than 1000 levels deep.*maxDepth/);
  });

  it.each([
    ['arrays, 1 001 levels', arraysText(1001)],
    ['objects, 1 001 levels', objectsText(1001)],
    ['arrays, 100 000 levels', arraysText(100_000)],
    ['objects, 1 000 000 levels', objectsText(1_000_000)],
    ['arrays, 1 000 000 levels, tagged', `~${arraysText(1_000_000)}`],
  ])('refuses to read %s before parsing it', (_label, text) => {
    const started = performance.now();
    const error = thrown(() => serializer.deserialize(text));
    // JSON.parse alone takes a few hundred milliseconds on a million levels; the scan stops after a thousand.
    expect(performance.now() - started).toBeLessThan(50);
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect((error as Error).message).toMatch(/nested more than 1000 levels deep/);
  });

  it('reads and writes deeper values when maxDepth is raised', () => {
    const deeper = new JsonSerializer({ maxDepth: 2000 });
    const value = nestedArrays(1500);
    expect(deeper.deserialize(deeper.serialize(value))).toEqual(value);
    expect(() => deeper.deserialize(arraysText(2001))).toThrow(CacheSerializationError);
  });

  it.each([0, 31, 1.5, 100_001, Number.NaN, '1000'])('refuses maxDepth %s', (maxDepth) => {
    expect(() => new JsonSerializer({ maxDepth: maxDepth as number })).toThrow(LayeredCacheError);
    expect(() => new JsonSerializer({ maxDepth: maxDepth as number })).toThrow(/"maxDepth" must be a whole number from 32 to 100000/);
  });
});
