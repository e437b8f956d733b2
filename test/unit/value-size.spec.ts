import { describe, expect, it } from 'vitest';
import { CacheSerializationError, CacheValueTooLargeError, DEFAULT_MAX_VALUE_BYTES, LayeredCacheError, createCacheEntry } from '../../lib';
import { encodeEnvelope } from '../../lib/core/envelope';
import { assertEntryFits, assertReplyFits, assertTextFits, validMaxValueBytes } from '../../lib/core/value-size';

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('the size limit of entries', () => {
  it('defaults to 8 MiB', () => {
    expect(DEFAULT_MAX_VALUE_BYTES).toBe(8 * 1024 * 1024);
  });

  it('counts the whole text an entry is stored as, in UTF-8 bytes, to the byte', () => {
    const entry = { ...createCacheEntry(null, 60_000), version: '17000000000000000482913' };
    for (const payload of ['"' + 'x'.repeat(300) + '"', '"' + 'é'.repeat(150) + '"', '"' + '€'.repeat(100) + '"', '"' + '😀'.repeat(75) + '"']) {
      const bytes = Buffer.byteLength(encodeEnvelope({ ...entry }, { serialize: () => payload, deserialize: JSON.parse }));
      expect(() => assertEntryFits('k', entry, payload, bytes)).not.toThrow();
      const error = thrown(() => assertEntryFits('k', entry, payload, bytes - 1));
      expect(error).toBeInstanceOf(CacheValueTooLargeError);
      expect(error).toMatchObject({ key: 'k', bytes, maxValueBytes: bytes - 1 });
    }
  });

  it('counts the tags of an entry', () => {
    const entry = { ...createCacheEntry(1, 60_000), tags: { ['catégorie:'.repeat(20)]: '17000000000000000482913' } };
    const bytes = Buffer.byteLength(encodeEnvelope(entry));
    expect(() => assertEntryFits('k', entry, '1', bytes)).not.toThrow();
    expect(() => assertEntryFits('k', entry, '1', bytes - 1)).toThrow(CacheValueTooLargeError);
  });

  it('says the key, the size, the limit and how to fix it, as a serialization error', () => {
    const error = thrown(() => assertEntryFits('shop:report', createCacheEntry(null, 0), 'x'.repeat(3 * 1024 * 1024), 1024 * 1024));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect((error as Error).message).toMatch(/"shop:report".* 3145\d{3} bytes \(3\.0 MiB\), more than maxValueBytes \(1048576 bytes \(1\.0 MiB\)\).*cached in no layer.*Cache less.*raise maxValueBytes/);
  });

  it('refuses a reply longer than the limit, in bytes for a Buffer and in characters for a string', () => {
    expect(() => assertReplyFits('k', 'x'.repeat(100), 100)).not.toThrow();
    expect(() => assertReplyFits('k', Buffer.alloc(100), 100)).not.toThrow();
    const error = thrown(() => assertReplyFits('k', Buffer.alloc(101), 100));
    expect(error).toBeInstanceOf(CacheValueTooLargeError);
    expect((error as Error).message).toMatch(/under "k" is at least 101 bytes, more than maxValueBytes \(100 bytes\).*a miss/);
    expect(() => assertReplyFits('k', 'x'.repeat(101), 100)).toThrow(CacheValueTooLargeError);
    expect(() => assertReplyFits('k', 42, 1)).not.toThrow();
  });

  it('lets a store refuse what it could not read back', () => {
    expect(() => assertTextFits('k', 'x'.repeat(100), 100)).not.toThrow();
    expect(() => assertTextFits('k', 'x'.repeat(101), 100)).toThrow(/Cannot write "k" to the shared layer: its text is at least 101 bytes/);
  });

  it.each([0, -1, 1.5, 512 * 1024 * 1024 + 1, Number.POSITIVE_INFINITY, Number.NaN, '8mb'])('refuses maxValueBytes %s', (value) => {
    expect(() => validMaxValueBytes(value, 'RedisStore')).toThrow(LayeredCacheError);
    expect(() => validMaxValueBytes(value, 'RedisStore')).toThrow(/RedisStore option "maxValueBytes" must be a whole number of bytes from 1 to 536870912/);
  });
});
