import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Duration, LayeredCache, LayeredCacheError, MemoryStore, OffloadService, RedisStore } from '../../lib';
import { connectRawRedis, deleteKeys, type RawRedis, REDIS_URL, uniqueNamespace } from '../support/redis';

let raw: RawRedis;
const namespaces: string[] = [];
const caches: LayeredCache[] = [];

beforeAll(async () => {
  raw = await connectRawRedis();
});

afterAll(async () => {
  for (const cache of caches) await cache.store.close();
  for (const namespace of namespaces) await deleteKeys(raw, `${namespace}`);
  raw.destroy();
});

function newCache(namespace: string | undefined, ttl?: Duration) {
  if (namespace !== undefined) namespaces.push(namespace);
  const cache = new LayeredCache({ l1: new MemoryStore(), l2: new RedisStore({ url: REDIS_URL }), offload: new OffloadService(), namespace, ttl });
  caches.push(cache);
  return cache;
}

describe('TTLs on a real Redis', () => {
  it('stores a fractional TTL rounded up to a whole millisecond', async () => {
    const cache = newCache(uniqueNamespace('ttl-fraction'));
    await cache.set('k', 'v', { ttl: 1500.5 });
    const pttl = await raw.pTTL(cache.fullKey('k'));
    expect(pttl).toBeGreaterThan(1400);
    expect(pttl).toBeLessThanOrEqual(1501);
    expect(await cache.get('k')).toBe('v');
  });

  it('takes TTLs written with their unit, for the cache and for one write, as milliseconds in Redis', async () => {
    const cache = newCache(uniqueNamespace('ttl-units'), '2m');
    await cache.set('default', 'v');
    await cache.set('own', 'v', { ttl: '1.5s' });
    const pttlDefault = await raw.pTTL(cache.fullKey('default'));
    const pttlOwn = await raw.pTTL(cache.fullKey('own'));
    expect(pttlDefault).toBeGreaterThan(119_000);
    expect(pttlDefault).toBeLessThanOrEqual(120_000);
    expect(pttlOwn).toBeGreaterThan(1_400);
    expect(pttlOwn).toBeLessThanOrEqual(1_500);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER])('refuses ttl %s before anything runs, getOrSet factory included', async (ttl) => {
    const cache = newCache(uniqueNamespace('ttl-refused'));
    const factory = vi.fn(async () => 'value');
    await expect(cache.getOrSet('k', factory, { ttl })).rejects.toBeInstanceOf(LayeredCacheError);
    await expect(cache.set('k', 'v', { ttl })).rejects.toBeInstanceOf(LayeredCacheError);
    expect(factory).not.toHaveBeenCalled();
    expect(await raw.exists(cache.fullKey('k'))).toBe(0);
  });
});

describe('namespaces and keys on a real Redis', () => {
  it('keeps the namespace of a long key, so that clear(namespace) deletes it', async () => {
    const namespace = `${uniqueNamespace('long')}-${'n'.repeat(70)}`;
    const cache = newCache(namespace);
    const key = `report:${'x'.repeat(400)}`;
    await cache.set(key, 'big');
    expect(cache.fullKey(key).startsWith(`${namespace}:`)).toBe(true);
    expect(await raw.exists(cache.fullKey(key))).toBe(1);
    await cache.clear();
    expect(await raw.exists(cache.fullKey(key))).toBe(0);
  });

  it('clear() of one namespace leaves a namespace that starts with the same letters alone', async () => {
    const base = uniqueNamespace('clear-scope');
    const a = newCache(base);
    const ab = newCache(`${base}-b`);
    await a.set('c', 1);
    await ab.set('c', 2);
    await a.clear();
    expect(await raw.exists(a.fullKey('c'))).toBe(0);
    expect(await raw.exists(ab.fullKey('c'))).toBe(1);
  });

  it('refuses a namespace with ":" so that it cannot collide with another namespace and key', () => {
    expect(() => newCache('a:b')).toThrow(/contains ":"/);
  });

  it('clear() without a namespace rejects with what to pass, and deletes nothing in Redis', async () => {
    const cache = newCache(undefined);
    const key = `${uniqueNamespace('unnamespaced')}:k`;
    namespaces.push(key);
    await cache.set(key, 'kept');
    await expect(cache.clear()).rejects.toThrow(/clear\(\) needs a namespace on a cache with an L2/);
    expect(await raw.exists(key)).toBe(1);
  });
});
