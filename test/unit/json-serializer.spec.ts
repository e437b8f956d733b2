import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CacheSerializationError } from '../../lib/core/errors';
import { JsonSerializer } from '../../lib/core/serializer';

const serializer = new JsonSerializer();
const roundTrip = (value: unknown): unknown => serializer.deserialize(serializer.serialize(value));

function refusal(value: unknown): CacheSerializationError {
  try {
    serializer.serialize(value);
  } catch (error) {
    expect(error).toBeInstanceOf(CacheSerializationError);
    return error as CacheSerializationError;
  }
  throw new Error('serialize did not throw');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('JsonSerializer round trips', () => {
  it.each([
    ['a string', 'héllo | ~ "quoted"'],
    ['a string that starts with the marker', '~{"$date":"2020-01-01T00:00:00.000Z"}'],
    ['zero', 0],
    ['a negative float', -12.5],
    ['true', true],
    ['null', null],
    ['an empty object', {}],
    ['an empty array', []],
    ['nested data', { a: [1, 'two', { three: [null, false] }], 'odd key': { '': 1 } }],
  ])('%s', (_label, value) => {
    expect(roundTrip(value)).toEqual(value);
  });

  it('writes plain JSON when the value has no Date', () => {
    expect(serializer.serialize({ a: [1, 'x'] })).toBe('{"a":[1,"x"]}');
  });

  it('restores a top-level Date', () => {
    const date = new Date('2024-02-29T12:34:56.789Z');
    const back = roundTrip(date);
    expect(back).toBeInstanceOf(Date);
    expect((back as Date).toISOString()).toBe(date.toISOString());
  });

  it('restores Dates nested in objects and arrays', () => {
    const value = {
      createdAt: new Date(0),
      items: [{ at: new Date('2001-09-09T01:46:40.000Z'), tags: ['a'] }, [new Date(1)]],
      name: 'order',
    };
    const back = roundTrip(value) as typeof value;
    expect(back).toEqual(value);
    expect(back.createdAt).toBeInstanceOf(Date);
    expect(back.items[0]).toMatchObject({ at: expect.any(Date) });
    expect((back.items[1] as Date[])[0]).toBeInstanceOf(Date);
  });

  it('restores an invalid Date as an invalid Date', () => {
    const back = roundTrip({ when: new Date(Number.NaN) }) as { when: Date };
    expect(back.when).toBeInstanceOf(Date);
    expect(Number.isNaN(back.when.getTime())).toBe(true);
  });

  it('keeps user objects that look like its own tags', () => {
    const value = {
      looksLikeDate: { $date: '2020-01-01T00:00:00.000Z' },
      looksLikeNull: { $date: null },
      looksLikeEscape: { $obj: ['$date', 'x'] },
      nestedEscape: { $obj: { $date: 'y' } },
      twoKeys: { $date: 'z', other: 1 },
      realDate: new Date(5),
    };
    const back = roundTrip(value) as typeof value;
    expect(back).toEqual(value);
    expect(back.looksLikeDate).not.toBeInstanceOf(Date);
    expect(back.realDate).toBeInstanceOf(Date);
  });

  it('keeps tag-like user objects when there is no Date at all', () => {
    const value = [{ $date: '2020-01-01T00:00:00.000Z' }, { $obj: [1, 2] }];
    expect(roundTrip(value)).toEqual(value);
  });

  it('drops undefined object properties as JSON does', () => {
    expect(roundTrip({ a: 1, b: undefined })).toEqual({ a: 1 });
  });

  it('uses toJSON of class instances', () => {
    class Money {
      constructor(readonly cents: number) {}
      toJSON(): string {
        return `${this.cents / 100} EUR`;
      }
    }
    expect(roundTrip({ price: new Money(1250) })).toEqual({ price: '12.5 EUR' });
  });
});

describe('JsonSerializer binary values', () => {
  const bytesOf = (view: Uint8Array): number[] => [...view];

  it('restores a top-level Buffer as a Buffer with the same bytes', () => {
    const buffer = Buffer.from([0, 1, 127, 128, 255]);
    const back = roundTrip(buffer);
    expect(Buffer.isBuffer(back)).toBe(true);
    expect(bytesOf(back as Buffer)).toEqual(bytesOf(buffer));
  });

  it('restores a top-level Uint8Array as a Uint8Array, not a Buffer', () => {
    const bytes = new Uint8Array([9, 8, 7, 0, 255]);
    const back = roundTrip(bytes) as Uint8Array;
    expect(Object.getPrototypeOf(back)).toBe(Uint8Array.prototype);
    expect(bytesOf(back)).toEqual(bytesOf(bytes));
    // Only its own bytes: not the pooled memory the decoding used.
    expect(back.buffer.byteLength).toBe(5);
  });

  it('restores Buffers and Uint8Arrays nested in objects and arrays, beside Dates', () => {
    const value = {
      avatar: Buffer.from('png bytes'),
      chunks: [new Uint8Array([1, 2]), Buffer.alloc(0), new Uint8Array(0)],
      at: new Date(7),
      name: 'file',
    };
    const back = roundTrip(value) as typeof value;
    expect(Buffer.isBuffer(back.avatar)).toBe(true);
    expect(back.avatar.toString()).toBe('png bytes');
    expect(Object.getPrototypeOf(back.chunks[0])).toBe(Uint8Array.prototype);
    expect(bytesOf(back.chunks[0] as Uint8Array)).toEqual([1, 2]);
    expect(Buffer.isBuffer(back.chunks[1])).toBe(true);
    expect(Object.getPrototypeOf(back.chunks[2])).toBe(Uint8Array.prototype);
    expect(back.at).toBeInstanceOf(Date);
    expect(back.name).toBe('file');
  });

  it('stores only the bytes of a view, not the rest of its ArrayBuffer', () => {
    const whole = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const view = whole.subarray(2, 4);
    expect(bytesOf(roundTrip(view) as Uint8Array)).toEqual([3, 4]);
    expect(bytesOf(roundTrip(Buffer.from(whole.buffer, 1, 2)) as Buffer)).toEqual([2, 3]);
  });

  it('writes binary data as a tagged base64 value', () => {
    expect(serializer.serialize({ b: Buffer.from('hi'), u: new Uint8Array([1]) })).toBe('~{"b":{"$bin":["Buffer","aGk="]},"u":{"$bin":["Uint8Array","AQ=="]}}');
  });

  it('keeps user objects that look like a binary tag, with and without real binary data', () => {
    const lookalikes = [{ $bin: ['Buffer', 'aGk='] }, { $bin: ['Uint8Array', 'AQ=='] }, { $obj: ['$bin', 'x'] }, { $bin: 'x', other: 1 }];
    expect(roundTrip(lookalikes)).toEqual(lookalikes);
    const mixed = { lookalike: { $bin: ['Buffer', 'aGk='] }, real: Buffer.from('hi') };
    const back = roundTrip(mixed) as typeof mixed;
    expect(back.lookalike).toEqual({ $bin: ['Buffer', 'aGk='] });
    expect(Buffer.isBuffer(back.lookalike)).toBe(false);
    expect(Buffer.isBuffer(back.real)).toBe(true);
  });

  it('reads a malformed binary tag as the object it is', () => {
    expect(serializer.deserialize('~{"$bin":["Float32Array","AAAA"]}')).toEqual({ $bin: ['Float32Array', 'AAAA'] });
    expect(serializer.deserialize('~{"$bin":["Buffer",1]}')).toEqual({ $bin: ['Buffer', 1] });
  });
});

describe('JsonSerializer and class instances', () => {
  class Account {
    #balance: number;
    constructor(balance: number) {
      this.#balance = balance;
    }
    get balance(): number {
      return this.#balance;
    }
  }

  it('refuses an instance whose state it cannot see, and says how to fix it', () => {
    const error = refusal({ owner: 'ann', account: new Account(10) });
    expect(error.message).toContain('value.account is an instance of Account');
    expect(error.message).toMatch(/public properties.*toJSON.*plain object/);
  });

  it('refuses such an instance at the top level and inside arrays', () => {
    expect(refusal(new Account(1)).message).toContain('value is an instance of Account');
    expect(refusal([{ a: [new Account(1)] }]).message).toContain('value[0].a[0] is an instance of Account');
  });

  it('refuses an Error, whose message and stack are not enumerable', () => {
    expect(refusal({ failure: new Error('x') }).message).toContain('value.failure is an instance of Error');
  });

  it('still stores instances with public fields, or with a toJSON, as plain data', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    class Secret {
      #value = 's';
      toJSON(): string {
        return this.#value;
      }
    }
    expect(roundTrip({ p: new Point(1, 2), s: new Secret() })).toEqual({ p: { x: 1, y: 2 }, s: 's' });
  });

  it('still stores empty plain objects, including ones without a prototype', () => {
    expect(roundTrip({ a: {}, b: Object.create(null) as object })).toEqual({ a: {}, b: {} });
  });
});

describe('JsonSerializer refusals', () => {
  it.each([
    ['a BigInt', { items: [{}, {}, { id: 10n }] }, 'value.items[2].id is a BigInt'],
    ['a function', { handler: () => 1 }, 'value.handler is a function'],
    ['a symbol', { kind: Symbol('k') }, 'value.kind is a symbol'],
    ['a Map', { lookup: new Map([[1, 2]]) }, 'value.lookup is a Map'],
    ['a Set', [new Set([1])], 'value[0] is a Set'],
    ['NaN', { score: Number.NaN }, 'value.score is NaN'],
    ['Infinity', { max: Number.POSITIVE_INFINITY }, 'value.max is an infinite number'],
    ['-Infinity', [Number.NEGATIVE_INFINITY], 'value[0] is an infinite number'],
    ['undefined in an array', [1, undefined], 'value[1] is undefined inside an array'],
    ['a typed array other than Uint8Array', { data: new Float64Array(2) }, 'value.data is binary data'],
    ['a Uint8ClampedArray', { data: new Uint8ClampedArray(2) }, 'value.data is binary data'],
    ['an ArrayBuffer', { data: new ArrayBuffer(2) }, 'value.data is binary data'],
    ['a DataView', [new DataView(new ArrayBuffer(2))], 'value[0] is binary data'],
    ['a subclass of Uint8Array', { data: new (class Bytes extends Uint8Array {})(2) }, 'value.data is binary data'],
    ['a RegExp', { pattern: /x/g }, 'value.pattern is a RegExp'],
    ['a WeakMap', { cache: new WeakMap() }, 'value.cache is a WeakMap or WeakSet'],
    ['a Promise', { pending: Promise.resolve(1) }, 'value.pending is a Promise'],
    ['a top-level BigInt', 1n, 'value is a BigInt'],
    ['a top-level function', () => 1, 'value is a function'],
    ['top-level undefined', undefined, 'value is undefined'],
    ['a key that is not an identifier', { 'user id': 1n }, 'value["user id"] is a BigInt'],
  ])('refuses %s and names the path', (_label, value, expected) => {
    expect(refusal(value).message).toContain(expected);
  });

  it('refuses a circular reference and names where it closes', () => {
    const parent: { name: string; children: unknown[] } = { name: 'root', children: [] };
    parent.children.push({ parent });
    expect(refusal({ tree: parent }).message).toContain('value.tree.children[0].parent is a circular reference');
  });

  it('says how to fix the value', () => {
    expect(refusal({ id: 1n }).message).toMatch(/convert it back after reading.*serializer/);
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { n: 1 };
    expect(roundTrip({ a: shared, b: shared })).toEqual({ a: { n: 1 }, b: { n: 1 } });
  });

  it('wraps an error thrown by a toJSON method', () => {
    const error = refusal({
      toJSON() {
        throw new Error('boom');
      },
    });
    expect(error.message).toContain('boom');
    expect(error.cause).toBeInstanceOf(Error);
  });
});

describe('JsonSerializer decoding', () => {
  it.each([
    ['not JSON', 'not json'],
    ['truncated JSON', '{"a":'],
    ['an empty string', ''],
    ['a marker with nothing after it', '~'],
    ['a marker before invalid JSON', '~{'],
  ])('rejects %s with CacheSerializationError', (_label, text) => {
    expect(() => serializer.deserialize(text)).toThrow(CacheSerializationError);
  });

  it('parses plain payloads without a reviver', () => {
    const parse = vi.spyOn(JSON, 'parse');
    serializer.deserialize(serializer.serialize({ a: [1, 2], b: 'x' }));
    expect(parse).toHaveBeenCalledTimes(1);
    expect(parse.mock.calls[0]).toHaveLength(1);
  });

  it('revives payloads that hold a Date after one parse without a reviver, which JSON.parse would call for every value', () => {
    const parse = vi.spyOn(JSON, 'parse');
    const back = serializer.deserialize(serializer.serialize({ at: new Date(0), items: [{ at: new Date(1) }] })) as { at: Date; items: { at: Date }[] };
    expect(parse).toHaveBeenCalledTimes(1);
    expect(parse.mock.calls[0]).toHaveLength(1);
    expect(back.at).toEqual(new Date(0));
    expect(back.items[0]?.at).toEqual(new Date(1));
  });
});

describe('JsonSerializer and prototype pollution', () => {
  const payloads = [
    '{"__proto__":{"polluted":"yes"}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"a":[{"__proto__":{"polluted":"yes"}}]}',
    '~{"__proto__":{"polluted":"yes"},"at":{"$date":"2020-01-01T00:00:00.000Z"}}',
    '~{"constructor":{"prototype":{"polluted":"yes"}},"x":{"$obj":["$date",{"__proto__":{"polluted":"yes"}}]}}',
    '~{"$obj":["__proto__",{"polluted":"yes"}]}',
  ];

  it.each(payloads)('never changes Object.prototype: %s', (text) => {
    const decoded = serializer.deserialize(text);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
  });

  it('keeps a "__proto__" key as an own property and writes it back', () => {
    const decoded = serializer.deserialize('{"__proto__":{"x":1},"y":2}') as Record<string, unknown>;
    expect(Object.hasOwn(decoded, '__proto__')).toBe(true);
    expect((decoded as { x?: unknown }).x).toBeUndefined();
    expect(serializer.serialize(decoded)).toBe('{"__proto__":{"x":1},"y":2}');
  });
});

describe('JsonSerializer round trips, property-based', () => {
  const reserved = fc.constantFrom('$date', '$obj', '$bin');
  // Values made of everything the serializer keeps, including user objects shaped like its own tags.
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.string(),
      // JSON writes -0 as 0.
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
      fc.boolean(),
      fc.constant(null),
      fc.date({ noInvalidDate: false }),
      fc.uint8Array({ maxLength: 8 }),
      fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
      fc.array(tie('value'), { maxLength: 4 }),
      // JSON gives objects back with Object.prototype.
      fc.dictionary(fc.oneof(fc.string(), reserved), tie('value'), { maxKeys: 4, noNullPrototype: true }),
      fc.tuple(reserved, tie('value')).map(([key, inner]) => ({ [key]: inner })),
      fc.tuple(reserved, fc.constantFrom('Buffer', 'Uint8Array'), fc.base64String()).map(([key, kind, text]) => ({ [key]: [kind, text] })),
    ),
  }));

  it('gives back every value with the same kinds, bytes and structure', () => {
    fc.assert(
      fc.property(value, (original) => {
        expect(roundTrip(original)).toStrictEqual(original);
      }),
      { numRuns: 500 },
    );
  });
});
