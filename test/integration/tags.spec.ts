import { describe, expect, it } from 'vitest';
import { type InvalidationMode, LayeredCache, MemoryStore, OffloadService, RedisStore } from '../../lib';
import { createCacheEntry } from '../../lib/core/cache-entry';
import { decodeEnvelope, encodeEnvelope } from '../../lib/core/envelope';
import { deferred } from '../support/deferred';
import { newMemoryCache } from '../support/memory-cache';
import { eventually, sleep, uniqueNamespace } from '../support/redis';
import { ownRedisForFile } from '../support/redis-server';

/**
 * Tags (DESIGN section 9): `invalidateTags` makes every entry with one of the tags a miss, on every
 * instance. Caches with connections of their own stand for instances; an own redis-server, so that the
 * tests can count the commands Redis runs.
 */

const own = ownRedisForFile();

async function instance(namespace: string, invalidation: InvalidationMode | false): Promise<LayeredCache> {
  const cache = new LayeredCache({ l1: new MemoryStore(), l2: new RedisStore({ url: own.server.url }), offload: new OffloadService(), namespace, invalidation });
  own.closeAfterAll(() => cache.store.close());
  await cache.invalidationStarted;
  return cache;
}

async function commandsRun(): Promise<number> {
  const info = String(await own.raw.sendCommand(['INFO', 'commandstats']));
  return [...info.matchAll(/cmdstat_[a-z|]+:calls=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
}

describe.each(['tracking', 'pubsub'] as const)('tags across instances (invalidation: %s)', (mode) => {
  it('invalidateTags on one instance makes the tagged entries a miss on both, and leaves the others', async () => {
    const namespace = uniqueNamespace('tags');
    const a = await instance(namespace, mode);
    const b = await instance(namespace, mode);
    await a.set('p1', 'product 1', { tags: ['products', 'category:7'] });
    await a.set('p2', 'product 2', { tags: ['products'] });
    await a.set('untagged', 'stays');
    expect(await b.get('p1')).toBe('product 1');
    expect(await b.get('p2')).toBe('product 2');
    await a.invalidateTags(['category:7']);
    expect(await a.get('p1')).toBeUndefined();
    expect(await eventually(async () => (await b.get('p1')) === undefined, 2_000)).toBe(true);
    expect(await b.get('p2')).toBe('product 2');
    expect(await b.get('untagged')).toBe('stays');
    await b.invalidateTags(['products']);
    expect(await eventually(async () => (await a.get('p2')) === undefined, 2_000)).toBe(true);
  });

  it('an entry written after the invalidation, with the same tag, is a hit everywhere', async () => {
    const namespace = uniqueNamespace('tags-after');
    const a = await instance(namespace, mode);
    const b = await instance(namespace, mode);
    await a.set('p', 'old', { tags: ['t'] });
    await a.invalidateTags(['t']);
    await eventually(async () => (await b.get('p')) === undefined, 2_000);
    await b.set('p', 'new', { tags: ['t'] });
    await sleep(20);
    expect(await b.get('p')).toBe('new');
    expect(await eventually(async () => (await a.get('p')) === 'new', 2_000)).toBe(true);
  });
});

describe('tags', () => {
  it('a getOrSet load that an invalidation of its tag overtook is not served afterwards', async () => {
    const cache = await instance(uniqueNamespace('tags-load'), 'tracking');
    const factory = deferred<string>();
    const load = cache.getOrSet('k', () => factory.promise, { tags: ['t'] });
    await sleep(10);
    await cache.invalidateTags(['t']);
    factory.resolve('loaded before the invalidation');
    expect(await load).toBe('loaded before the invalidation');
    await sleep(20);
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.getOrSet('k', () => 'loaded again', { tags: ['t'] })).toBe('loaded again');
  });

  it('a tagged L1 hit whose tags did not change costs no Redis command', async () => {
    const cache = await instance(uniqueNamespace('tags-hit'), 'tracking');
    await cache.invalidateTags(['t']);
    await cache.set('k', 'v', { tags: ['t', 'never-invalidated'] });
    // The first reads learn the versions of the tags (again, after Redis 7.0 echoed this instance's own
    // writes of the entry and the tag back to it); the next ones have them.
    await sleep(50);
    expect(await cache.get('k')).toBe('v');
    expect(await cache.get('k')).toBe('v');
    const before = await commandsRun();
    for (let i = 0; i < 100; i++) expect(await cache.get('k')).toBe('v');
    // Only the INFO of `before` itself.
    expect((await commandsRun()) - before).toBe(1);
  });

  it('without invalidation, a tagged hit reads its tags from Redis, so that another instance\'s invalidation still counts', async () => {
    const namespace = uniqueNamespace('tags-no-bus');
    const a = await instance(namespace, false);
    const b = await instance(namespace, false);
    await a.set('k', 'v', { tags: ['t'] });
    expect(await b.get('k')).toBe('v');
    await a.invalidateTags(['t']);
    expect(await b.get('k')).toBeUndefined();
  });

  it('works with L1 alone', async () => {
    const { cache } = newMemoryCache({ l2: null });
    await cache.set('k', 'v', { tags: ['t'] });
    expect(await cache.get('k')).toBe('v');
    await cache.invalidateTags(['t']);
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', 'again', { tags: ['t'] });
    expect(await cache.get('k')).toBe('again');
  });

  it('refuses tags that are not a list of non-empty strings, before anything is written', async () => {
    const { cache, l1 } = newMemoryCache();
    await expect(cache.set('k', 'v', { tags: 'products' as never })).rejects.toThrow(/tags must be an array of non-empty strings/);
    await expect(cache.set('k', 'v', { tags: [''] })).rejects.toThrow(/tags must be an array of non-empty strings/);
    await expect(cache.getOrSet('k', () => 'v', { tags: [1] as never })).rejects.toThrow(/tags must be an array/);
    await expect(cache.invalidateTags(['ok', 2] as never)).rejects.toThrow(/tags must be an array/);
    expect(l1.size).toBe(0);
  });

  it('keeps the tags of an entry in the text Redis stores, whatever the payload holds', () => {
    const entry = { ...createCacheEntry('a|b|1|2|value', 60_000, 1_700_000_000_000, '17000000000000000000001'), tags: { 'category:7': '17000000000000000000000', products: '' } };
    const text = encodeEnvelope(entry);
    expect(decodeEnvelope(text)).toEqual(entry);
    expect(decodeEnvelope(encodeEnvelope(createCacheEntry('plain', 60_000, 1_700_000_000_000, '17000000000000000000002'))).tags).toBeUndefined();
    expect(() => decodeEnvelope(text.slice(0, text.indexOf('{') + 5))).toThrow(/tags are cut off/);
  });
});
