import { describe, expect, it, vi } from 'vitest';
import { type CacheEntry, createCacheEntry } from '../../lib/core/cache-entry';
import { ENVELOPE_VERSION, decodeEnvelope, decodeStoredText, encodeDeleteMark, encodeEnvelope, rememberPayload } from '../../lib/core/envelope';
import { CacheSerializationError } from '../../lib/core/errors';
import { JsonSerializer, type Serializer } from '../../lib/core/serializer';

function decodeError(text: string, serializer?: Serializer): CacheSerializationError {
  try {
    decodeEnvelope(text, serializer);
  } catch (error) {
    expect(error).toBeInstanceOf(CacheSerializationError);
    return error as CacheSerializationError;
  }
  throw new Error(`decodeEnvelope accepted ${JSON.stringify(text)}`);
}

describe('versioned entries and delete marks', () => {
  it('writes an entry with a version in format 2, and reads its version back', () => {
    const entry = { value: { id: 1 }, createdAt: 1_700_000_000_000, expiresAt: null, version: '17000000000000001123456' };
    const text = encodeEnvelope(entry);
    expect(text).toBe('2|17000000000000001123456|1700000000000||0|{"id":1}');
    expect(decodeEnvelope(text)).toEqual(entry);
    expect(decodeStoredText(text)).toEqual(entry);
  });

  it('reads a delete mark as a miss, and refuses it where an entry is required', () => {
    const mark = encodeDeleteMark('17000000000000001123456');
    expect(mark).toBe('2|17000000000000001123456|~');
    expect(decodeStoredText(mark)).toBeUndefined();
    expect(() => decodeEnvelope(mark)).toThrow(/delete mark/);
  });

  it('does not take an entry whose payload ends in "|~" for a delete mark', () => {
    const entry = { value: 'a|~', createdAt: 1, expiresAt: null, version: '1' };
    expect(decodeStoredText(encodeEnvelope(entry, { serialize: (v) => String(v), deserialize: (t) => t }), { serialize: (v) => String(v), deserialize: (t) => t })).toEqual(entry);
  });

  it('refuses a version that is not what the cache makes', () => {
    expect(() => encodeEnvelope({ value: 1, createdAt: 1, expiresAt: null, version: 'A|B' })).toThrow(CacheSerializationError);
    expect(() => decodeStoredText('2|A B|1||0|1')).toThrow(CacheSerializationError);
  });
});

describe('encodeEnvelope', () => {
  it('writes version, times, flags and payload in that order', () => {
    const entry: CacheEntry = { value: { id: 1 }, createdAt: 1_700_000_000_000, expiresAt: 1_700_000_060_000 };
    expect(encodeEnvelope(entry)).toBe('1|1700000000000|1700000060000|0|{"id":1}');
  });

  it('writes each entry its own times when entries of a burst share some of them and not others', () => {
    const times: [number, number | null][] = [
      [1_700_000_000_000, 1_700_000_060_000],
      [1_700_000_000_000, 1_700_000_060_000],
      [1_700_000_000_000, 1_700_000_000_500],
      [1_700_000_060_000, 1_700_000_000_000],
      [1_700_000_000_001, null],
      [1_700_000_000_000, 1_700_000_060_000],
    ];
    for (const [createdAt, expiresAt] of times) {
      expect(encodeEnvelope({ value: 1, createdAt, expiresAt })).toBe(`1|${createdAt}|${expiresAt ?? ''}|0|1`);
    }
  });

  it.each([0, 7, 999_999_999, 1_000_000_000, 2 ** 30 - 1, 2 ** 30, 2 ** 31, 1_700_000_000_000, 1_700_000_000_001, 1_700_999_999_999, 9_007_199_254_740_000, Number.MAX_SAFE_INTEGER])(
    'writes the time %d with all its digits',
    (time) => {
      expect(encodeEnvelope({ value: 1, createdAt: time, expiresAt: time })).toBe(`1|${String(time)}|${String(time)}|0|1`);
    },
  );

  it('writes the same digits as String() for times across the whole safe range', () => {
    for (let i = 0; i < 5_000; i++) {
      const time = Math.floor(Math.random() * 10 ** Math.floor(Math.random() * 16));
      expect(encodeEnvelope({ value: 1, createdAt: time, expiresAt: null })).toBe(`1|${String(time)}||0|1`);
    }
  });

  it('leaves expiresAt empty for an entry that never expires', () => {
    expect(encodeEnvelope({ value: 'x', createdAt: 5, expiresAt: null })).toBe('1|5||0|"x"');
  });

  it('uses the serializer it is given', () => {
    const serializer: Serializer = { serialize: () => 'CUSTOM', deserialize: (text) => `read:${text}` };
    const text = encodeEnvelope({ value: 1, createdAt: 1, expiresAt: null }, serializer);
    expect(text).toBe('1|1||0|CUSTOM');
    expect(decodeEnvelope(text, serializer).value).toBe('read:CUSTOM');
  });

  it('propagates refusals of the serializer', () => {
    expect(() => encodeEnvelope(createCacheEntry({ id: 1n }, 1000))).toThrow(/value\.id is a BigInt/);
  });

  it.each([
    ['a fractional createdAt', { value: 1, createdAt: 1.5, expiresAt: null }, 'entry.createdAt'],
    ['a negative createdAt', { value: 1, createdAt: -1, expiresAt: null }, 'entry.createdAt'],
    ['a NaN expiresAt', { value: 1, createdAt: 1, expiresAt: Number.NaN }, 'entry.expiresAt'],
  ])('refuses %s', (_label, entry, field) => {
    expect(() => encodeEnvelope(entry)).toThrow(CacheSerializationError);
    expect(() => encodeEnvelope(entry)).toThrow(field);
  });

  it('refuses an invalid time right after a valid entry with the same other time', () => {
    expect(encodeEnvelope({ value: 1, createdAt: 10, expiresAt: 20 })).toBe('1|10|20|0|1');
    expect(() => encodeEnvelope({ value: 1, createdAt: 10, expiresAt: Number.NaN })).toThrow('entry.expiresAt');
    expect(() => encodeEnvelope({ value: 1, createdAt: Number.NaN, expiresAt: Number.NaN })).toThrow('entry.createdAt');
    expect(() => encodeEnvelope({ value: 1, createdAt: -1, expiresAt: 20 })).toThrow('entry.createdAt');
    expect(encodeEnvelope({ value: 2, createdAt: 10, expiresAt: 20 })).toBe('1|10|20|0|2');
  });

  it('refuses a serializer that returns something other than a string', () => {
    const serializer = { serialize: () => 42, deserialize: () => null } as unknown as Serializer;
    expect(() => encodeEnvelope({ value: 1, createdAt: 1, expiresAt: null }, serializer)).toThrow(/must return a string/);
  });
});

describe('encodeEnvelope with a remembered payload', () => {
  it('writes the remembered payload without serializing again', () => {
    const serializer = new JsonSerializer();
    const entry = rememberPayload(createCacheEntry({ id: 1 }, 1000, 5), serializer, '{"id":1}');
    const serialize = vi.spyOn(serializer, 'serialize');
    expect(encodeEnvelope(entry, serializer)).toBe('1|5|1005|0|{"id":1}');
    expect(serialize).not.toHaveBeenCalled();
  });

  it('serializes as usual for another serializer, another entry, or a changed value', () => {
    const remembered = new JsonSerializer();
    const other = new JsonSerializer();
    const entry = rememberPayload(createCacheEntry({ id: 1 }, 1000, 5), remembered, 'remembered');
    expect(encodeEnvelope(entry, other)).toBe('1|5|1005|0|{"id":1}');
    expect(encodeEnvelope({ ...entry }, remembered)).toBe('1|5|1005|0|{"id":1}');
    (entry as { value: unknown }).value = { id: 2 };
    expect(encodeEnvelope(entry, remembered)).toBe('1|5|1005|0|{"id":2}');
  });

  it('uses a remembered payload once', () => {
    const serializer = new JsonSerializer();
    const entry = rememberPayload(createCacheEntry('a', 1000, 5), serializer, 'remembered');
    expect(encodeEnvelope(entry, serializer)).toBe('1|5|1005|0|remembered');
    expect(encodeEnvelope(entry, serializer)).toBe('1|5|1005|0|"a"');
  });

  it('keeps the last remembered payload only', () => {
    const serializer = new JsonSerializer();
    const first = rememberPayload(createCacheEntry('a', 1000, 5), serializer, 'first');
    const second = rememberPayload(createCacheEntry('b', 1000, 5), serializer, 'second');
    expect(encodeEnvelope(first, serializer)).toBe('1|5|1005|0|"a"');
    expect(encodeEnvelope(second, serializer)).toBe('1|5|1005|0|second');
  });
});

describe('decodeEnvelope round trips', () => {
  it('restores value and times', () => {
    const entry = createCacheEntry({ name: 'Ada', tags: ['x'] }, 60_000, 1_700_000_000_000);
    expect(decodeEnvelope(encodeEnvelope(entry))).toEqual(entry);
  });

  it('restores an entry without expiry', () => {
    const entry = createCacheEntry([1, 2, 3], undefined, 42);
    expect(decodeEnvelope(encodeEnvelope(entry))).toEqual({ value: [1, 2, 3], createdAt: 42, expiresAt: null });
  });

  it('restores nested Dates in the value', () => {
    const value = { at: new Date('2020-05-17T10:00:00.000Z'), list: [{ when: new Date(0) }] };
    const decoded = decodeEnvelope(encodeEnvelope(createCacheEntry(value, 1000, 10)));
    expect(decoded.value).toEqual(value);
    expect((decoded.value as typeof value).list[0]?.when).toBeInstanceOf(Date);
  });

  it('keeps "|" inside the payload', () => {
    const entry = createCacheEntry('a|b||c|', 1000, 7);
    expect(decodeEnvelope(encodeEnvelope(entry)).value).toBe('a|b||c|');
  });

  it('round trips null and primitive values', () => {
    for (const value of [null, 0, false, '', 'text']) {
      expect(decodeEnvelope(encodeEnvelope(createCacheEntry(value, undefined, 1))).value).toBe(value);
    }
  });

  it('round trips the largest safe time', () => {
    const entry = { value: 1, createdAt: Number.MAX_SAFE_INTEGER, expiresAt: Number.MAX_SAFE_INTEGER };
    expect(decodeEnvelope(encodeEnvelope(entry))).toEqual(entry);
  });

  it('passes the payload to the serializer without a reviver when it holds no Date', () => {
    const parse = vi.spyOn(JSON, 'parse');
    try {
      decodeEnvelope(encodeEnvelope(createCacheEntry({ a: 1 }, 1000, 1)));
      expect(parse).toHaveBeenCalledTimes(1);
      expect(parse.mock.calls[0]).toEqual(['{"a":1}']);
    } finally {
      parse.mockRestore();
    }
  });
});

describe('decodeEnvelope rejects', () => {
  it('exposes the version it writes', () => {
    expect(ENVELOPE_VERSION).toBe(2);
  });

  it.each([
    ['an unknown version', '3|1||0|1', 'version "3"'],
    ['a large unknown version', '17|1||0|1', 'version "17"'],
    ['version 0', '0|1||0|1', 'version "0"'],
  ])('%s', (_label, text, expected) => {
    const error = decodeError(text);
    expect(error.message).toContain(expected);
    expect(error.message).toContain('reads only versions 1 and 2');
  });

  it.each([
    ['an empty value', ''],
    ['a bare version', '1'],
    ['a version and separator only', '1|'],
    ['a header cut after createdAt', '1|1700000000000'],
    ['a header cut after expiresAt', '1|1700000000000|'],
    ['a header cut after flags', '1|1700000000000||0'],
    ['a non-numeric createdAt', '1|abc||0|1'],
    ['an empty createdAt', '1|||0|1'],
    ['a signed createdAt', '1|-5||0|1'],
    ['an exponent in createdAt', '1|1e3||0|1'],
    ['a space in expiresAt', '1|1| 2|0|1'],
    ['a fractional expiresAt', '1|1|2.5|0|1'],
    ['a createdAt beyond safe integers', '1|9999999999999999||0|1'],
    ['a createdAt longer than 16 digits', '1|12345678901234567||0|1'],
    ['an empty flags field', '1|1|||1'],
    ['non-numeric flags', '1|1||x|1'],
    ['foreign JSON', '{"user":"ada"}'],
    ['foreign text', 'hello world'],
    ['a number', '12345'],
    ['text starting with a long digit run', '123456789012|x'],
  ])('%s as malformed', (_label, text) => {
    expect(decodeError(text).message).toMatch(/not a nestjs-layered-cache entry \(.+\)/);
  });

  it('unknown flags', () => {
    expect(decodeError('1|1||4|1').message).toContain('flags 4');
  });

  it.each([
    ['invalid JSON', '1|1||0|{"a":'],
    ['an empty payload', '1|1||0|'],
    ['a marker without JSON', '1|1||0|~'],
  ])('an undecodable payload: %s', (_label, text) => {
    expect(decodeError(text).message).toContain('could not be decoded');
  });

  it('wraps errors that a custom serializer throws', () => {
    const serializer: Serializer = {
      serialize: (value) => String(value),
      deserialize: () => {
        throw new RangeError('bad bytes');
      },
    };
    const error = decodeError('1|1||0|x', serializer);
    expect(error.message).toContain('bad bytes');
    expect(error.cause).toBeInstanceOf(RangeError);
  });

  it('keeps CacheSerializationError from the serializer as it is', () => {
    const thrown = new CacheSerializationError('custom');
    const serializer: Serializer = {
      serialize: (value) => String(value),
      deserialize: () => {
        throw thrown;
      },
    };
    expect(decodeError('1|1||0|x', serializer)).toBe(thrown);
  });
});

describe('decodeEnvelope and prototype pollution', () => {
  it.each([
    '1|1||0|{"__proto__":{"polluted":"yes"}}',
    '1|1||0|{"constructor":{"prototype":{"polluted":"yes"}}}',
    '1|1||0|~{"__proto__":{"polluted":"yes"},"d":{"$date":"2020-01-01T00:00:00.000Z"}}',
  ])('leaves Object.prototype alone: %s', (text) => {
    const entry = decodeEnvelope(text, new JsonSerializer());
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(entry.value)).toBe(Object.prototype);
    expect(Object.hasOwn(entry.value as object, '__proto__') || Object.hasOwn(entry.value as object, 'constructor')).toBe(true);
  });
});
