import { RESP_TYPES, createClient } from 'redis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type CacheErrorEvent,
  CacheValueTooLargeError,
  LayeredCache,
  LayeredCacheError,
  MemoryStore,
  OffloadService,
  RedisStore,
} from '../../lib';
import { REDIS_URL, holdsEntry, rawRedisForFile, uniqueNamespace } from '../support/redis';

const LIMIT = 64 * 1024;
const shared = rawRedisForFile();
const opened: LayeredCache[] = [];

afterEach(async () => {
  for (const cache of opened.splice(0)) await cache.store.close();
});

/** A cache over the shared Redis whose L2 takes entries of at most `maxValueBytes`, and the error events it emits. */
function cacheWith(namespace: string, maxValueBytes: number, l1 = new MemoryStore(), l2 = new RedisStore({ url: REDIS_URL, commandTimeoutMs: 2_000, maxValueBytes })) {
  if (!shared.namespaces.includes(namespace)) shared.namespaces.push(namespace);
  const cache = new LayeredCache({ l1, l2, offload: new OffloadService(), namespace, invalidation: false, resilience: { timeoutMs: 2_000 } });
  opened.push(cache);
  const errors: CacheErrorEvent[] = [];
  cache.events$.subscribe((event) => {
    if (event.type === 'error') errors.push(event);
  });
  return { cache, l1, l2, errors };
}

/** A value whose JSON is about `bytes` long. */
const valueOf = (bytes: number, mark = 'x'): { items: string[] } => ({ items: Array.from({ length: Math.ceil(bytes / 100) }, (_, index) => `${mark}${index}`.padEnd(97, mark)) });

describe('maxValueBytes on writes', () => {
  it('refuses a value over the limit in every layer, with an error that says its size, the limit, the key and the fix', async () => {
    const { cache, l1, errors } = cacheWith(uniqueNamespace('too-large-set'), LIMIT);
    const error = await cache.set('report', valueOf(2 * LIMIT)).then(
      () => undefined,
      (refused: unknown) => refused,
    );
    expect(error).toBeInstanceOf(CacheValueTooLargeError);
    expect(error).toMatchObject({ key: cache.fullKey('report'), maxValueBytes: LIMIT });
    expect((error as CacheValueTooLargeError).bytes).toBeGreaterThan(2 * LIMIT);
    expect((error as Error).message).toContain(`"${cache.fullKey('report')}"`);
    expect((error as Error).message).toMatch(/ 13\d{4} bytes \(128\.\d KiB\), more than maxValueBytes \(65536 bytes \(64\.0 KiB\)\).*cached in no layer.*Cache less.*raise maxValueBytes/);
    expect(l1.get(cache.fullKey('report'))).toBeUndefined();
    expect(holdsEntry(await shared.client().get(cache.fullKey('report')))).toBe(false);
    expect(errors).toEqual([expect.objectContaining({ layer: 'l2', operation: 'serialize', key: cache.fullKey('report'), error })]);
  });

  it('writes a value just under the limit', async () => {
    const { cache, l1 } = cacheWith(uniqueNamespace('under-limit'), LIMIT);
    await cache.set('report', valueOf(LIMIT - 1_000));
    expect(l1.get(cache.fullKey('report'))).toBeDefined();
    expect(holdsEntry(await shared.client().get(cache.fullKey('report')))).toBe(true);
  });

  it('getOrSet gives the caller the value over the limit, caches it nowhere and reports it each time', async () => {
    const { cache, l1, errors } = cacheWith(uniqueNamespace('too-large-load'), LIMIT);
    const big = valueOf(2 * LIMIT);
    const factory = vi.fn(async () => big);
    expect(await cache.getOrSet('report', factory)).toBe(big);
    expect(await cache.getOrSet('report', factory)).toBe(big);
    expect(factory).toHaveBeenCalledTimes(2);
    expect(l1.get(cache.fullKey('report'))).toBeUndefined();
    expect(await shared.client().exists(cache.fullKey('report'))).toBe(0);
    expect(errors.map((event) => event.error)).toEqual([expect.any(CacheValueTooLargeError), expect.any(CacheValueTooLargeError)]);
  });

  it('a put over the limit, in the background or not, caches nothing and drops the older value it replaces', async () => {
    for (const background of [false, true]) {
      const { cache, errors } = cacheWith(uniqueNamespace('too-large-put'), LIMIT);
      await cache.set('report', { small: true });
      await cache.put('report', valueOf(2 * LIMIT), { background });
      await vi.waitFor(async () => expect(holdsEntry(await shared.client().get(cache.fullKey('report')))).toBe(false));
      expect(await cache.get('report')).toBeUndefined();
      expect(errors.map((event) => event.error)).toEqual([expect.any(CacheValueTooLargeError)]);
    }
  });

  it('refuses a limit above its L2 store’s, which would keep in L1 what L2 refuses', () => {
    const l2 = new RedisStore({ url: REDIS_URL, maxValueBytes: LIMIT });
    expect(() => new LayeredCache({ l1: new MemoryStore(), l2, offload: new OffloadService(), maxValueBytes: 2 * LIMIT, invalidation: false })).toThrow(LayeredCacheError);
    expect(() => new LayeredCache({ l1: new MemoryStore(), l2, offload: new OffloadService(), maxValueBytes: 2 * LIMIT, invalidation: false })).toThrow(
      /maxValueBytes 131072 is more than the L2 store's own maxValueBytes 65536/,
    );
    return l2.close();
  });
});

describe('maxValueBytes on reads', () => {
  it('an entry over the limit that another writer stored is a miss and an error event, never decoded', async () => {
    const namespace = uniqueNamespace('too-large-read');
    const writer = cacheWith(namespace, 4 * LIMIT).cache;
    await writer.set('report', valueOf(2 * LIMIT, 'w'));
    const reader = cacheWith(namespace, LIMIT);
    const decode = vi.spyOn(reader.l2.serializer, 'deserialize');
    expect(await reader.cache.get('report')).toBeUndefined();
    expect(decode).not.toHaveBeenCalled();
    expect(reader.errors).toEqual([
      expect.objectContaining({ layer: 'l2', operation: 'serialize', key: reader.cache.fullKey('report'), error: expect.any(CacheValueTooLargeError) }),
    ]);
    expect(reader.errors[0]?.error.message).toMatch(/under ".*:report" is at least 13\d{4} bytes .*more than maxValueBytes \(65536 bytes.*the read is a miss.*same maxValueBytes/);
    // The factory's value replaces it.
    expect(await reader.cache.getOrSet('report', async () => ({ small: true }))).toEqual({ small: true });
    reader.cache.store.l1.clear?.();
    expect(await reader.cache.get('report')).toEqual({ small: true });
  });

  it('measures a Buffer reply in bytes before turning it into text', async () => {
    const namespace = uniqueNamespace('too-large-buffer');
    const writer = cacheWith(namespace, 4 * LIMIT).cache;
    await writer.set('small', { fits: true });
    // Multi-byte text: fewer characters than bytes, so only a count of bytes refuses it.
    await writer.set('report', { text: 'é'.repeat(LIMIT / 2 + 100) });
    const client = createClient({ url: REDIS_URL }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const reader = cacheWith(namespace, LIMIT, new MemoryStore(), new RedisStore({ client, commandTimeoutMs: 2_000, maxValueBytes: LIMIT }));
      const toText = vi.spyOn(Buffer.prototype, 'toString');
      expect(await reader.cache.get('report')).toBeUndefined();
      expect(toText).not.toHaveBeenCalled();
      toText.mockRestore();
      expect(reader.errors.map((event) => event.error)).toEqual([expect.any(CacheValueTooLargeError)]);
      expect(await reader.cache.get('small')).toEqual({ fits: true });
    } finally {
      await Promise.all(opened.splice(0).map((cache) => cache.store.close()));
      client.destroy();
    }
  });
});

describe('an L1 bounded by bytes over Redis', () => {
  it('counts an L2 hit copied into L1 as the length of the text read', async () => {
    const namespace = uniqueNamespace('l1-bytes');
    const writer = cacheWith(namespace, LIMIT).cache;
    for (const key of ['a', 'b', 'c']) await writer.set(key, valueOf(10_000, key));
    const text = (await shared.client().get(writer.fullKey('a'))) as string;
    const l1 = new MemoryStore({ maxBytes: Math.floor(text.length * 2.5) });
    const reader = cacheWith(namespace, LIMIT, l1).cache;
    for (const key of ['a', 'b', 'c']) expect(await reader.get(key)).toEqual(valueOf(10_000, key));
    // Refills are written without making the reader wait.
    await vi.waitFor(() => expect(l1.get(reader.fullKey('c'))).toBeDefined());
    expect(l1.get(reader.fullKey('c'))?.encodedLength).toBe(text.length);
    expect(l1.get(reader.fullKey('a'))).toBeUndefined();
    expect(l1.get(reader.fullKey('b'))).toBeDefined();
  });
});
