import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LayeredCache, LayeredCacheError, MemoryStore, OffloadService } from '../../lib';
import { encodeArguments } from '../../lib/core/cache-key';
import { boundKeyLength } from '../../lib/core/cache-key';
import { validNamespace } from '../../lib/core/cache-key';
import { MAX_KEY_LENGTH } from '../../lib/core/cache-key';
import { NamespacedKeys } from '../../lib/core/cache-key';

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

describe('encodeArguments beyond JSON', () => {
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  class Money {
    readonly #cents: number;
    constructor(cents: number) {
      this.#cents = cents;
    }
    toJSON(): string {
      return `${this.#cents}c`;
    }
  }
  /** Like Money, but its state is visible to node's deep equality too (the property tests' oracle). */
  class Price {
    constructor(readonly cents: number) {}
    toJSON(): string {
      return `${this.cents}c`;
    }
  }
  class Secret {
    readonly #value: string;
    constructor(value: string) {
      this.#value = value;
    }
    reveal(): string {
      return this.#value;
    }
  }

  it('reads the state of instances where it lives', () => {
    const distinct: unknown[][] = [
      [new Number(1)],
      [new Number(2)],
      [new String('a')],
      [new Boolean(false)],
      [new Boolean(true)],
      [/a/],
      [/a/g],
      [/b/],
      [new Uint8Array([1, 2])],
      [new Uint8Array([1, 3])],
      [new Uint16Array([1, 2])],
      [Buffer.from('ab')],
      [new URL('https://example.com/a')],
      [new URL('https://example.com/b')],
      [new Money(1)],
      [new Money(2)],
      [new Point(1, 2)],
      [{ x: 1, y: 2 }],
      [[, 1]], // eslint-disable-line no-sparse-arrays
      [[undefined, 1]],
      [[1]],
      [new Array(1)],
      [[]],
    ];
    const encoded = distinct.map((args) => encodeArguments(args));
    expect(new Set(encoded).size).toBe(distinct.length);
    expect(encodeArguments([new Money(5)])).toBe(encodeArguments([new Money(5)]));
    expect(encodeArguments([new Point(1, 2)])).toBe('(Point{"x":1,"y":2})');
  });

  it('refuses an instance whose state is hidden rather than give different ones the same key', () => {
    expect(new Secret('a').reveal()).not.toBe(new Secret('b').reveal());
    expect(() => encodeArguments([new Secret('a')])).toThrow(/argument 0 is an instance of Secret with no enumerable properties and no toJSON/);
  });

  /** Values drawn from a small domain, so that equal pairs come up as often as different ones. */
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom('', 'a', 'b', 'a:b', '"', ',', '(', ')', '…#', 'a\\b', '1', 'undefined', 'null'),
      fc.constantFrom(0, -0, 1, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
      fc.constantFrom(0n, 1n, -1n),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      // (Two invalid Dates share a key, which node's deep equality would call different: left out here.)
      fc.constantFrom(0, 1).map((t) => new Date(t)),
      fc.constantFrom(1, 2).map((n) => new Number(n)),
      fc.constantFrom('a', 'b').map((text) => new String(text)),
      fc.constantFrom(/a/, /a/i, /b/).map((regexp) => new RegExp(regexp)),
      fc.constantFrom(1, 2).map((cents) => new Price(cents)),
      fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 })).map(([x, y]) => new Point(x, y)),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.sparseArray(tie('value'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom('a', 'b', 'c d', '"'), tie('value'), { maxKeys: 3, noNullPrototype: true }),
      fc.uniqueArray(fc.tuple(fc.constantFrom('a', 'b', 1, 2), tie('value')), { maxLength: 3, selector: ([k]) => k }).map((pairs) => new Map(pairs)),
      fc.uniqueArray(fc.constantFrom('a', 'b', 1, 2, 1n, true, null), { maxLength: 3 }).map((items) => new Set(items)),
    ),
  }));
  const argumentList = fc.array(value, { maxLength: 3 });

  it('gives two argument lists the same key exactly when they are deeply equal (node:util isDeepStrictEqual)', () => {
    fc.assert(
      fc.property(argumentList, argumentList, (a, b) => {
        expect(encodeArguments(a) === encodeArguments(b)).toBe(isDeepStrictEqual(a, b));
      }),
      { numRuns: 2_000 },
    );
  });

  it('tells apart argument lists that differ in one place only', () => {
    fc.assert(
      fc.property(argumentList, fc.nat(), value, (a, position, replacement) => {
        const b = a.length === 0 ? [replacement] : (replaceNode(a, position, replacement) as unknown[]);
        expect(encodeArguments(a) === encodeArguments(b)).toBe(isDeepStrictEqual(a, b));
      }),
      { numRuns: 3_000 },
    );
  });

  it('is stable: object keys, Map entries and Set items in another order give the same key', () => {
    fc.assert(
      fc.property(argumentList, (args) => {
        expect(encodeArguments(reordered(args) as unknown[])).toBe(encodeArguments(args));
      }),
      { numRuns: 500 },
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

  it('never lets a short key pose as the digest of a long one', () => {
    const long = `ns:Search.find:(${JSON.stringify('x'.repeat(500))})`;
    const forged = boundKeyLength(long);
    expect(forged.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
    expect(boundKeyLength(forged)).not.toBe(forged);
  });

  it('never maps a key and its own shortened form to the same key', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 200, maxLength: 400 }), (key) => {
        const bounded = boundKeyLength(key);
        if (bounded !== key) expect(boundKeyLength(bounded)).not.toBe(bounded);
      }),
    );
  });

  it('is injective over keys of every length, marked ones included', () => {
    const key = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.tuple(fc.string({ maxLength: 80 }), fc.string({ maxLength: 80 })).map(([a, b]) => `${a}…#${b}`),
      fc.string({ minLength: 250, maxLength: 400 }).map((k) => boundKeyLength(k)),
    );
    fc.assert(
      fc.property(key, key, (a, b) => {
        expect(boundKeyLength(a) === boundKeyLength(b)).toBe(a === b);
        expect(boundKeyLength(a).length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
      }),
      { numRuns: 1_000 },
    );
  });
});

/**
 * A copy of the container `root` where the node at `position` (pre-order over array items, object values,
 * Map values and the containers below the root, modulo their count) is replaced by `replacement`.
 */
function replaceNode(root: unknown, position: number, replacement: unknown): unknown {
  const count = (node: unknown): number => 1 + children(node).reduce((sum: number, child) => sum + count(child), 0);
  let remaining = 1 + (position % (count(root) - 1));
  const visit = (node: unknown): unknown => {
    if (remaining-- === 0) return replacement;
    if (Array.isArray(node)) {
      const copy: unknown[] = new Array(node.length);
      for (let i = 0; i < node.length; i++) if (i in node) copy[i] = visit(node[i]);
      return copy;
    }
    if (node instanceof Map) return new Map([...node.entries()].map(([k, v]) => [k, visit(v)]));
    if (isPlainObject(node)) return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, visit(v)]));
    return node;
  };
  return visit(root);
}

function children(node: unknown): unknown[] {
  if (Array.isArray(node)) return node.filter((_, i) => i in node);
  if (node instanceof Map) return [...node.values()];
  if (isPlainObject(node)) return Object.values(node);
  return [];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}

/** A deep copy with object keys, Map entries and Set items in reverse insertion order. */
function reordered(value: unknown): unknown {
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) if (i in value) copy[i] = reordered(value[i]);
    return copy;
  }
  if (value instanceof Map) return new Map([...value.entries()].reverse().map(([k, v]) => [k, reordered(v)]));
  if (value instanceof Set) return new Set([...value].reverse());
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(Object.keys(record).reverse().map((k) => [k, reordered(record[k])]));
  }
  return value;
}

/** A canonical text of a JSON value: sorted object keys, and -0 kept apart from 0. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record).sort().map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(',')}}`;
  }
  return Object.is(value, -0) ? '-0' : JSON.stringify(value);
}

describe('validNamespace', () => {
  it('accepts names without ":" as they are', () => {
    expect(validNamespace('shop')).toBe('shop');
    expect(validNamespace('shop-eu.v2')).toBe('shop-eu.v2');
  });

  it('refuses a namespace with ":", naming it and suggesting "-" or "." instead', () => {
    expect(() => validNamespace('a:b')).toThrow(LayeredCacheError);
    expect(() => validNamespace('a:b')).toThrow(/Invalid cache namespace "a:b": it contains ":".*Use another separator, such as "a-b" or "a\.b"\./);
  });

  it('refuses empty, blank and non-string namespaces, saying what to pass', () => {
    expect(() => validNamespace('')).toThrow(/Invalid cache namespace "": it is empty\..*Pass a non-empty name/);
    expect(() => validNamespace('  ')).toThrow(/Invalid cache namespace " {2}": it is empty/);
    expect(() => validNamespace(42)).toThrow(/Invalid cache namespace 42 \(number\): it is not a string/);
    expect(() => validNamespace(undefined)).toThrow(/it is not a string/);
  });

  it('keeps namespaces and keys from colliding: a cache refuses namespace "a:b", so it cannot share keys with namespace "a"', () => {
    expect(new NamespacedKeys('a').fullKey('b:c')).toBe('a:b:c');
    expect(() => new NamespacedKeys('a:b')).toThrow(/Use another separator, such as "a-b" or "a\.b"/);
    expect(() => new LayeredCache({ l1: new MemoryStore(), offload: new OffloadService(), namespace: 'a:b' })).toThrow(/Invalid cache namespace "a:b"/);
  });
});

describe('NamespacedKeys with long keys', () => {
  const longNamespace = 'tenant-' + 'n'.repeat(80);

  it('keeps the whole namespace prefix at the front of a shortened key, so clear(namespace) still finds it', async () => {
    const l1 = new MemoryStore();
    const cache = new LayeredCache({ l1, offload: new OffloadService(), namespace: longNamespace });
    const long = 'k'.repeat(MAX_KEY_LENGTH * 2);
    const fullKey = cache.fullKey(long);
    expect(fullKey.startsWith(`${longNamespace}:`)).toBe(true);
    expect(fullKey.length).toBeLessThan(long.length);

    await cache.set(long, 'value');
    expect(await cache.get(long)).toBe('value');
    await cache.clear(longNamespace);
    expect(await l1.get(fullKey)).toBeUndefined();
    expect(await cache.get(long)).toBeUndefined();
  });

  it('stays within MAX_KEY_LENGTH for a short namespace', () => {
    const keys = new NamespacedKeys('shop');
    expect(keys.fullKey('x'.repeat(1000)).length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
    expect(keys.fullKey('x'.repeat(MAX_KEY_LENGTH - 'shop:'.length))).toBe(`shop:${'x'.repeat(MAX_KEY_LENGTH - 'shop:'.length)}`);
  });

  it('is injective over keys of every length, shortened and marked ones included, for short and long namespaces', () => {
    const key = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.tuple(fc.string({ maxLength: 80 }), fc.string({ maxLength: 80 })).map(([a, b]) => `${a}…#${b}`),
      fc.string({ minLength: 250, maxLength: 400 }).map((k) => boundKeyLength(k)),
    );
    for (const namespace of ['ns', longNamespace]) {
      const keys = new NamespacedKeys(namespace);
      fc.assert(
        fc.property(key, key, (a, b) => {
          expect(keys.fullKey(a) === keys.fullKey(b)).toBe(a === b);
          expect(keys.fullKey(a).startsWith(`${namespace}:`)).toBe(true);
        }),
        { numRuns: 500 },
      );
    }
  });

  it('keeps a namespace from posing as another one: the namespace is everything before the first ":"', () => {
    const namespaces = ['a', 'ab', 'a-b'];
    const fullKeys = namespaces.flatMap((namespace) => ['b', 'b:c', '-b', ''].map((key) => new NamespacedKeys(namespace).fullKey(key)));
    expect(new Set(fullKeys).size).toBe(fullKeys.length);
    for (const fullKey of fullKeys) expect(namespaces).toContain(fullKey.slice(0, fullKey.indexOf(':')));
  });
});
