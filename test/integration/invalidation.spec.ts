import IoRedisV6 from 'ioredis6';
import { createClient } from 'redis';
import { createClient as createClientV5 } from 'redis5';
import { describe, expect, it } from 'vitest';
import { type CacheEvent, type InvalidationMode, LayeredCache, MemoryStore, OffloadService, RedisStore } from '../../lib';
import { createCacheEntry } from '../../lib/core/cache-entry';
import { encodeEnvelope } from '../../lib/core/envelope';
import { VersionClock } from '../../lib/core/version-clock';
import { eventually, sleep, uniqueNamespace } from '../support/redis';
import { RedisServer, ownRedisForFile } from '../support/redis-server';

/**
 * DESIGN section 9 on real Redis: two caches with connections of their own stand for two instances on one
 * Redis, and a write, delete or clear on one drops the other's L1 copy. An own redis-server, so that the
 * tests may kill connections, flush and restart it.
 */

/** How the store gets its client: created from the url by each driver, or given one of the other majors. */
type Driver = 'node-redis' | 'ioredis' | 'node-redis v5 client' | 'ioredis v6 client';

function storeFor(driver: Driver, url: string): RedisStore {
  switch (driver) {
    case 'node-redis':
      return new RedisStore({ url });
    case 'ioredis':
      return new RedisStore({ driver, url, clientOptions: { maxRetriesPerRequest: 1 } });
    case 'node-redis v5 client': {
      const client = createClientV5({ url });
      client.on('error', () => undefined);
      own.closeAfterAll(async () => client.destroy());
      return new RedisStore({ client });
    }
    case 'ioredis v6 client': {
      const client = new IoRedisV6(url, { maxRetriesPerRequest: 1 });
      client.on('error', () => undefined);
      own.closeAfterAll(async () => client.disconnect());
      return new RedisStore({ client });
    }
  }
}

const own = ownRedisForFile();

interface Instance {
  readonly cache: LayeredCache;
  readonly l1: MemoryStore;
  readonly events: CacheEvent[];
  /** True while L1 holds a copy of `key`. */
  holds(key: string): boolean;
}

async function instance(namespace: string, invalidation: InvalidationMode, driver: Driver, url = own.server.url): Promise<Instance> {
  const l1 = new MemoryStore();
  const cache = new LayeredCache({
    l1,
    l2: storeFor(driver, url),
    offload: new OffloadService(),
    namespace,
    invalidation,
    resilience: { timeoutMs: 500, breaker: false },
  });
  const events: CacheEvent[] = [];
  cache.events$.subscribe((event) => {
    if (event.type === 'invalidation' || event.type === 'error') events.push(event);
  });
  own.closeAfterAll(() => cache.store.close());
  await cache.invalidationStarted;
  return { cache, l1, events, holds: (key) => l1.get(cache.fullKey(key)) !== undefined };
}

/** Two instances on one namespace; B has read `k` (value `v1`, written by A) into its L1. */
async function twoInstancesSharing(label: string, mode: InvalidationMode, driver: Driver, key = 'k'): Promise<{ a: Instance; b: Instance }> {
  const namespace = uniqueNamespace(label);
  const a = await instance(namespace, mode, driver);
  const b = await instance(namespace, mode, driver);
  await a.cache.set(key, 'v1');
  expect(await b.cache.get(key)).toBe('v1');
  // A read that A's own announcement overtakes does not refill L1 (it cannot tell which value it read): read again.
  expect(await eventually(async () => (await b.cache.get(key)) === 'v1' && b.holds(key))).toBe(true);
  return { a, b };
}

describe.each([
  { mode: 'tracking', driver: 'node-redis' },
  { mode: 'tracking', driver: 'ioredis' },
  { mode: 'pubsub', driver: 'node-redis' },
  { mode: 'pubsub', driver: 'ioredis' },
  { mode: 'tracking', driver: 'node-redis v5 client' },
  { mode: 'tracking', driver: 'ioredis v6 client' },
  { mode: 'pubsub', driver: 'node-redis v5 client' },
  { mode: 'pubsub', driver: 'ioredis v6 client' },
] as const)('invalidation: $mode with $driver', ({ mode, driver }) => {
  it('a write on one instance drops the L1 copy of the other, which then reads the new value', async () => {
    const { a, b } = await twoInstancesSharing('write', mode, driver);
    await a.cache.set('k', 'v2');
    expect(await eventually(() => !b.holds('k'), 2_000)).toBe(true);
    expect(await b.cache.get('k')).toBe('v2');
  });

  it('a delete on one instance is a miss on the other', async () => {
    const { a, b } = await twoInstancesSharing('delete', mode, driver);
    await a.cache.delete('k');
    expect(await eventually(() => !b.holds('k'), 2_000)).toBe(true);
    expect(await b.cache.get('k')).toBeUndefined();
  });

  it('a clear on one instance empties the other of the namespace', async () => {
    const { a, b } = await twoInstancesSharing('clear', mode, driver);
    await a.cache.set('other', 1);
    expect(await b.cache.get('other')).toBe(1);
    await a.cache.clear();
    expect(await eventually(() => !b.holds('k') && !b.holds('other'), 2_000)).toBe(true);
    expect(await b.cache.get('k')).toBeUndefined();
  });

  it('a getOrSet load on one instance that a write on the other overtook is not kept in its L1', async () => {
    const namespace = uniqueNamespace('load-vs-write');
    const a = await instance(namespace, mode, driver);
    const b = await instance(namespace, mode, driver);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const load = b.cache.getOrSet('k', async () => {
      await released;
      return 'loaded before the write';
    });
    await sleep(20);
    await a.cache.set('k', 'written');
    expect(await eventually(() => b.events.some((event) => event.type === 'invalidation' && event.key === b.cache.fullKey('k')), 2_000)).toBe(true);
    release();
    expect(await load).toBe('loaded before the write');
    await sleep(50);
    expect(b.holds('k')).toBe(false);
    expect(await b.cache.get('k')).toBe('written');
  });

  it('after its invalidation connection was lost, an instance serves no L1 entry that could have missed a message', async () => {
    const { a, b } = await twoInstancesSharing('lost', mode, driver);
    const lostBefore = b.events.filter((event) => event.type === 'invalidation' && event.reason === 'lost').length;
    await own.raw.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    // While B listens on nothing: its message about this write is lost.
    await a.cache.set('k', 'v2');
    expect(await eventually(() => b.events.filter((event) => event.type === 'invalidation' && event.reason === 'lost').length > lostBefore, 5_000)).toBe(true);
    expect(await b.cache.get('k')).toBe('v2');
    // Listening again: the next write reaches B as before.
    await b.cache.get('k');
    await a.cache.set('k', 'v3');
    expect(await eventually(async () => (await b.cache.get('k')) === 'v3', 2_000)).toBe(true);
  });
});

describe.each(['node-redis', 'ioredis', 'node-redis v5 client', 'ioredis v6 client'] as const)('invalidation by Redis tracking (%s)', (driver) => {
  it('a change by another Redis client, outside the library, drops the L1 copy', async () => {
    const { b } = await twoInstancesSharing('foreign', 'tracking', driver);
    const clock = new VersionClock('999999');
    await own.raw.set(b.cache.fullKey('k'), encodeEnvelope(createCacheEntry('from another program', 60_000, Date.now(), clock.next())));
    expect(await eventually(() => !b.holds('k'), 2_000)).toBe(true);
    expect(await b.cache.get('k')).toBe('from another program');
    await own.raw.del(b.cache.fullKey('k'));
    expect(await eventually(async () => (await b.cache.get('k')) === undefined, 2_000)).toBe(true);
  });

  it('a flush of the database drops every L1 copy', async () => {
    const { b } = await twoInstancesSharing('flush', 'tracking', driver);
    await own.raw.flushDb();
    expect(await eventually(() => !b.holds('k'), 2_000)).toBe(true);
    expect(await b.cache.get('k')).toBeUndefined();
  });

  it('turns tracking on again after Redis restarts, and drops what could have changed meanwhile', async () => {
    const { a, b } = await twoInstancesSharing('restart', 'tracking', driver);
    await own.server.restart();
    await own.raw.connect().catch(() => undefined);
    expect(await eventually(async () => {
      await a.cache.set('k', 'after the restart');
      return (await own.raw.get(a.cache.fullKey('k'))) !== null;
    }, 8_000, 100)).toBe(true);
    expect(await eventually(async () => (await b.cache.get('k')) === 'after the restart', 8_000, 50)).toBe(true);
    await a.cache.set('k', 'later');
    expect(await eventually(async () => (await b.cache.get('k')) === 'later', 2_000)).toBe(true);
  });
});

describe('invalidation: auto', () => {
  it('uses tracking where Redis allows it and keeps an instance\'s own writes to it, else pub/sub; its own writes keep their L1 copies', async () => {
    const namespace = uniqueNamespace('auto');
    const a = await instance(namespace, 'auto', 'node-redis');
    const b = await instance(namespace, 'auto', 'node-redis');
    expect(a.cache.store.invalidation?.description).toMatch(/^Redis (tracking \(prefix "test-auto-[^"]+:"\)|pub\/sub \(channel "nestjs-layered-cache:invalidate:test-auto-[^"]+:"\))$/);
    await a.cache.set('k', 'v1');
    expect(await b.cache.get('k')).toBe('v1');
    await sleep(50);
    expect(a.holds('k')).toBe(true);
    await a.cache.set('k', 'v2');
    expect(await eventually(async () => (await b.cache.get('k')) === 'v2', 2_000)).toBe(true);
  });

  it('falls back to pub/sub, and says so, where Redis refuses the CLIENT command', async () => {
    const strict = await RedisServer.start(undefined, ['--rename-command', 'CLIENT', '']);
    own.closeAfterAll(() => strict.stop());
    const namespace = uniqueNamespace('auto-strict');
    const a = await instance(namespace, 'auto', 'node-redis', strict.url);
    const b = await instance(namespace, 'auto', 'node-redis', strict.url);
    expect(b.cache.store.invalidation?.description).toMatch(/^Redis pub\/sub \(channel "nestjs-layered-cache:invalidate:test-auto-strict-[^"]+:"\)$/);
    await a.cache.set('k', 'v1');
    expect(await b.cache.get('k')).toBe('v1');
    await a.cache.set('k', 'v2');
    expect(await eventually(async () => (await b.cache.get('k')) === 'v2', 2_000)).toBe(true);
  });
});

describe('invalidation: pubsub', () => {
  it('ignores its own messages: a write keeps its own L1 copy', async () => {
    const namespace = uniqueNamespace('own');
    const a = await instance(namespace, 'pubsub', 'node-redis');
    await a.cache.set('k', 'mine');
    await sleep(100);
    expect(a.holds('k')).toBe(true);
    expect(a.cache.stats().invalidations).toBe(0);
  });

  it('announces a burst of writes in one message', async () => {
    const namespace = uniqueNamespace('burst');
    const a = await instance(namespace, 'pubsub', 'node-redis');
    const listener = createClient({ url: own.server.url });
    await listener.connect();
    own.closeAfterAll(() => listener.quit());
    const messages: string[] = [];
    await listener.subscribe(`nestjs-layered-cache:invalidate:${namespace}:`, (message) => messages.push(message));
    await Promise.all(Array.from({ length: 50 }, (_, i) => a.cache.set(`k${i}`, i)));
    expect(await eventually(() => messages.length > 0, 2_000)).toBe(true);
    await sleep(50);
    expect(messages).toHaveLength(1);
    const message = JSON.parse(messages[0]) as { keys: string[]; versions: string[] };
    expect(message.keys).toHaveLength(50);
    expect(message.keys[0]).toBe(a.cache.fullKey('k0'));
    expect(message.versions.every((version) => /^\d{23}$/.test(version))).toBe(true);
    expect(JSON.stringify(message)).not.toContain('"value"');
  });
});
