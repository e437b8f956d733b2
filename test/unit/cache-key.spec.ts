import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundKeyLength, encodeArguments, MAX_KEY_LENGTH } from '../../lib';

describe('encodeArguments', () => {
  it('keeps argument boundaries, types and nesting apart', () => {
    const cases: unknown[][] = [
      ['a:b'],
      ['a', 'b'],
      [1],
      ['1'],
      [null],
      [undefined],
      [],
      [[]],
      [{}],
      [0],
      [-0],
      [1n],
      [true],
      ['true'],
      [new Date(0)],
      [new Map([[1, 2]])],
      [new Set([1])],
      [{ a: 1 }],
      [{ a: '1' }],
      [['a', 'b']],
      ['a,b'],
      ['("a")'],
    ];
    const encoded = cases.map((args) => encodeArguments(args));
    expect(new Set(encoded).size).toBe(cases.length);
  });

  it('ignores object key order', () => {
    expect(encodeArguments([{ a: 1, b: 2 }])).toBe(encodeArguments([{ b: 2, a: 1 }]));
  });

  it('refuses functions, symbols and circular structures with a message naming the argument', () => {
    expect(() => encodeArguments([() => 1])).toThrow(/argument 0 is function/);
    expect(() => encodeArguments(['x', Symbol('s')])).toThrow(/argument 1 is symbol/);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => encodeArguments([loop])).toThrow(/circular/);
  });

  it('is injective over JSON-like arguments', () => {
    const argumentList = fc.array(fc.jsonValue(), { maxLength: 4 });
    fc.assert(
      fc.property(argumentList, argumentList, (a, b) => {
        const same = canonical(a) === canonical(b);
        return (encodeArguments(a) === encodeArguments(b)) === same;
      }),
    );
  });
});

describe('boundKeyLength', () => {
  it('keeps short keys and shortens long ones to a distinct digest', () => {
    expect(boundKeyLength('short')).toBe('short');
    const a = boundKeyLength('x'.repeat(1000) + 'a');
    const b = boundKeyLength('x'.repeat(1000) + 'b');
    expect(a.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
    expect(a).not.toBe(b);
  });
});

/** A canonical text of a JSON value: sorted object keys, and -0 kept apart from 0. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record).sort().map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(',')}}`;
  }
  return Object.is(value, -0) ? '-0' : JSON.stringify(value);
}
