import { describe, expect, it } from 'vitest';
import { LayeredCache, MemoryStore, OffloadService, RaceWritePolicy, RedisStore } from '../../lib';
import { createCacheEntry } from '../../lib/core/cache-entry';
import { decodeStoredText } from '../../lib/core/envelope';
import { VersionClock } from '../../lib/core/version-clock';
import { deferred } from '../support/deferred';
import { eventually, sleep, uniqueNamespace } from '../support/redis';
import { ownRedisForFile } from '../support/redis-server';
import { TcpProxy } from '../support/tcp-proxy';

/**
 * Versions checked in Redis: what keeps an older write from winning when it reaches Redis late, from
 * another instance, a replay or a load that a write overtook. Two caches with connections of their own
 * stand for two instances. An own redis-server, so that the test may flush its scripts.
 */

const own = ownRedisForFile();

function instance(namespace: string, url: string = own.server.url, overrides: Partial<ConstructorParameters<typeof LayeredCache>[0]> = {}) {
  const offload = new OffloadService();
  const cache = new LayeredCache({
    l1: new MemoryStore(),
    l2: new RedisStore({ url, commandTimeoutMs: 100 }),
    offload,
    namespace,
    resilience: { timeoutMs: 100, breaker: { failureThreshold: 3, cooldownMs: 100 }, replay: { retryDelayMs: 50 } },
    ...overrides,
  });
  own.closeAfterAll(() => cache.store.close());
  return { cache, offload };
}

async function storedValue(key: string): Promise<unknown> {
  const text = await own.raw.get(key);
  return text === null ? undefined : decodeStoredText(text)?.value;
}

describe('RedisStore with versioned entries', () => {
  const clock = new VersionClock('000001');
  const store = (): RedisStore => {
    const created = new RedisStore({ url: own.server.url });
    own.closeAfterAll(() => created.close());
    return created;
  };

  it('keeps the newer of two writes, whatever order they reach Redis in', async () => {
    const redis = store();
    const older = createCacheEntry('older', 60_000, Date.now(), clock.next());
    const newer = createCacheEntry('newer', 60_000, Date.now(), clock.next());
    await redis.set('v:a', newer, 60_000);
    await redis.set('v:a', older, 60_000);
    expect(await storedValue('v:a')).toBe('newer');
    expect((await redis.get('v:a'))?.version).toBe(newer.version);
  });

  it('leaves a delete mark that refuses an older write and reads as a miss', async () => {
    const redis = store();
    const write = createCacheEntry('v', 60_000, Date.now(), clock.next());
    await redis.set('v:b', createCacheEntry('before', 60_000, Date.now(), clock.next()), 60_000);
    await redis.delete('v:b', { version: clock.next(), ttlMs: 1_000 });
    await redis.set('v:b', write, 60_000);
    expect(await redis.get('v:b')).toBeUndefined();
    // The mark lives as long as the entry it replaced had left, so that no write older than it outlives it.
    expect(await own.raw.pTTL('v:b')).toBeGreaterThan(50_000);
    const later = createCacheEntry('after', 60_000, Date.now(), clock.next());
    await redis.set('v:b', later, 60_000);
    expect(await storedValue('v:b')).toBe('after');
  });

  it('overwrites text without a version: a format 1 entry, or another program\'s value', async () => {
    const redis = store();
    await own.raw.set('v:c', 'foreign');
    await redis.set('v:c', createCacheEntry('ours', 60_000, Date.now(), clock.next()), 60_000);
    expect(await storedValue('v:c')).toBe('ours');
  });

  it('loads its script again when Redis no longer holds it (SCRIPT FLUSH, a restart)', async () => {
    const redis = store();
    await redis.set('v:d', createCacheEntry(1, 60_000, Date.now(), clock.next()), 60_000);
    await own.raw.scriptFlush();
    await redis.set('v:d', createCacheEntry(2, 60_000, Date.now(), clock.next()), 60_000);
    expect(await storedValue('v:d')).toBe(2);
  });
});

describe('two instances on one Redis', () => {
  it('a write kept while Redis was out of reach, replayed later, does not overwrite the newer write of another instance', async () => {
    const namespace = uniqueNamespace('replay-vs-other');
    const proxy = await TcpProxy.start(own.server.port);
    own.closeAfterAll(() => proxy.close());
    const a = instance(namespace, proxy.url);
    const b = instance(namespace);
    await a.cache.set('warm', 0);
    proxy.blackhole();
    await a.cache.set('k', 'from A, earlier');
    // Kept once its own command has timed out too (the caller's limit may end first).
    expect(await eventually(() => a.cache.stats().resilience?.replay?.pending === 1, 2_000)).toBe(true);
    await sleep(5);
    await b.cache.set('k', 'from B, later');
    proxy.heal();
    expect(await eventually(() => a.cache.stats().resilience?.replay?.pending === 0, 3_000)).toBe(true);
    await sleep(20);
    expect(await storedValue(`${namespace}:k`)).toBe('from B, later');
  });

  it('a value that instance A loads while instance B deletes the key is not written back to Redis', async () => {
    const namespace = uniqueNamespace('load-vs-other-delete');
    const a = instance(namespace);
    const b = instance(namespace);
    await b.cache.set('p', 'v1');
    await a.cache.delete('p');
    const loaded = deferred<string>();
    const load = a.cache.getOrSet('p', () => loaded.promise);
    await eventually(() => a.cache.stats().l2.misses === 1);
    await sleep(2);
    await b.cache.delete('p');
    loaded.resolve('loaded before the delete');
    expect(await load).toBe('loaded before the delete');
    await sleep(20);
    expect(await storedValue(`${namespace}:p`)).toBeUndefined();
    expect(await b.cache.get('p')).toBeUndefined();
  });

  it('a race loser of A that reaches Redis after the delete of B does not bring the key back', async () => {
    const namespace = uniqueNamespace('late-loser-vs-delete');
    const proxy = await TcpProxy.start(own.server.port);
    own.closeAfterAll(() => proxy.close());
    const a = instance(namespace, proxy.url, {
      writePolicy: new RaceWritePolicy(),
      resilience: { timeoutMs: 2_000, breaker: false, replay: false },
    });
    const b = instance(namespace);
    await a.cache.set('warm', 0);
    await a.offload.drain();
    proxy.blackhole();
    await a.cache.set('k', 'from A');
    await sleep(5);
    await b.cache.delete('k');
    proxy.heal();
    await a.offload.drain();
    await sleep(20);
    expect(await storedValue(`${namespace}:k`)).toBeUndefined();
  });
});
