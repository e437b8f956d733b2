import { describe, expect, it } from 'vitest';
import { type InvalidationMode, LayeredCache, MemoryStore, OffloadService, RedisStore } from '../../lib';
import { leaseKeyOf } from '../../lib/engine/shared-loads';
import { newMemoryCache } from '../support/memory-cache';
import { sleep, uniqueNamespace } from '../support/redis';
import { ownRedisForFile } from '../support/redis-server';

/**
 * `singleFlight: 'distributed'` on real Redis (DESIGN section 9): caches with connections of their own
 * stand for instances; an own redis-server, so that the tests can count the commands Redis runs.
 */

const own = ownRedisForFile();

async function instances(count: number, namespace: string, invalidation: InvalidationMode = 'tracking'): Promise<LayeredCache[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const cache = new LayeredCache({ l1: new MemoryStore(), l2: new RedisStore({ url: own.server.url }), offload: new OffloadService(), namespace, invalidation });
      own.closeAfterAll(() => cache.store.close());
      await cache.invalidationStarted;
      return cache;
    }),
  );
}

/** A 50 ms factory that counts its calls. */
function slowFactory(value: string) {
  const counter = { calls: 0, factory: async () => {
    counter.calls++;
    await sleep(50);
    return value;
  } };
  return counter;
}

async function evalshaCalls(): Promise<number> {
  const info = String(await own.raw.sendCommand(['INFO', 'commandstats']));
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

describe.each(['tracking', 'pubsub'] as const)("singleFlight: 'distributed' (invalidation: %s)", (invalidation) => {
  it('three instances that miss one key call the factory once in total, and all get its value', async () => {
    const caches = await instances(3, uniqueNamespace('three'), invalidation);
    const counter = slowFactory('loaded once');
    const started = performance.now();
    const values = await Promise.all(caches.map((cache) => cache.getOrSet('k', counter.factory, { singleFlight: 'distributed' })));
    const elapsed = performance.now() - started;
    expect(values).toEqual(['loaded once', 'loaded once', 'loaded once']);
    expect(counter.calls).toBe(1);
    // The others learn of the value as soon as it is written, not at the end of the lease.
    expect(elapsed).toBeLessThan(1_000);
  });

  it('an instance that missed before another loaded the key, and asks for the lease after that load ended, uses its value', async () => {
    const namespace = uniqueNamespace('late-lease');
    const [first] = await instances(1, namespace, invalidation);
    // The second instance's lease requests wait for a signal: its miss comes before the first one's load, its
    // request for the lease after that load has written the value and given the lease back.
    let reached!: () => void;
    const atLease = new Promise<void>((resolve) => (reached = resolve));
    let go!: () => void;
    const gate = new Promise<void>((resolve) => (go = resolve));
    class GatedLeaseStore extends RedisStore {
      override async tryLease(lease: string, token: string, ttlMs: number): Promise<number> {
        reached();
        await gate;
        return super.tryLease(lease, token, ttlMs);
      }
    }
    const second = new LayeredCache({ l1: new MemoryStore(), l2: new GatedLeaseStore({ url: own.server.url }), offload: new OffloadService(), namespace, invalidation });
    own.closeAfterAll(() => second.store.close());
    await second.invalidationStarted;
    const late = slowFactory('loaded again');
    const waiting = second.getOrSet('k', late.factory, { singleFlight: 'distributed' });
    await atLease;
    const counter = slowFactory('loaded once');
    expect(await first.getOrSet('k', counter.factory, { singleFlight: 'distributed' })).toBe('loaded once');
    go();
    expect(await waiting).toBe('loaded once');
    expect(counter.calls + late.calls).toBe(1);
  });

  it('loads again after a tag invalidation, instead of taking the invalidated entry for a value another instance wrote', async () => {
    const [cache] = await instances(1, uniqueNamespace('tag-invalidated'), invalidation);
    const first = slowFactory('price 300');
    expect(await cache.getOrSet('k', first.factory, { singleFlight: 'distributed', tags: ['products'] })).toBe('price 300');
    await cache.invalidateTags(['products']);
    const second = slowFactory('price 600');
    expect(await cache.getOrSet('k', second.factory, { singleFlight: 'distributed', tags: ['products'] })).toBe('price 600');
    expect(second.calls).toBe(1);
  });

  it('when the holder of the lease fails, another instance loads in its place', async () => {
    const [holder, waiter] = await instances(2, uniqueNamespace('holder-fails'), invalidation);
    let calls = 0;
    const failing = holder.getOrSet('k', async () => {
      calls++;
      await sleep(50);
      throw new Error('the database is down');
    }, { singleFlight: 'distributed' });
    await sleep(10);
    const waiting = waiter.getOrSet('k', async () => {
      calls++;
      return 'loaded by the waiter';
    }, { singleFlight: 'distributed' });
    await expect(failing).rejects.toThrow('the database is down');
    expect(await waiting).toBe('loaded by the waiter');
    expect(calls).toBe(2);
  });
});

describe("singleFlight: 'distributed'", () => {
  it('takes over a lease whose holder died once it expires, without polling Redis while it waits', async () => {
    const namespace = uniqueNamespace('dead-holder');
    const [cache] = await instances(1, namespace);
    // A holder that took the lease for 400 ms and died.
    await own.raw.set(leaseKeyOf(cache.fullKey('k')), 'a dead instance', { PX: 400 });
    const before = await evalshaCalls();
    const counter = slowFactory('loaded after the lease expired');
    const started = performance.now();
    expect(await cache.getOrSet('k', counter.factory, { singleFlight: 'distributed' })).toBe('loaded after the lease expired');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(2_000);
    expect(counter.calls).toBe(1);
    // One attempt at the lease before the wait, one after it, the value's write and the lease given back.
    expect((await evalshaCalls()) - before).toBeLessThanOrEqual(5);
  });

  it('waits no longer than leaseWaitMs for a holder that is alive but slow, then loads itself', async () => {
    const [cache] = await instances(1, uniqueNamespace('slow-holder'));
    await own.raw.set(leaseKeyOf(cache.fullKey('k')), 'a slow instance', { PX: 10_000 });
    const started = performance.now();
    expect(await cache.getOrSet('k', async () => 'loaded after waiting', { singleFlight: 'distributed', leaseWaitMs: 200 })).toBe('loaded after waiting');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1_500);
  });

  it('gives the lease back once the value is written', async () => {
    const [cache] = await instances(1, uniqueNamespace('release'));
    await cache.getOrSet('k', async () => 'v', { singleFlight: 'distributed' });
    await sleep(20);
    expect(await own.raw.exists(leaseKeyOf(cache.fullKey('k')))).toBe(0);
  });

  it('is refused over an L2 that hands out no leases, with a message that says what to use', async () => {
    const { cache } = newMemoryCache();
    await expect(cache.getOrSet('k', () => 'v', { singleFlight: 'distributed' })).rejects.toThrow(/needs an L2 that hands out leases \(a RedisStore\)/);
    await expect(cache.getOrSet('k', () => 'v', { singleFlight: 'everywhere' as never })).rejects.toThrow(/singleFlight must be 'local' or 'distributed'/);
  });

  it('is a local single flight without an L2, where no other instance shares the cache', async () => {
    const { cache } = newMemoryCache({ l2: null });
    let calls = 0;
    const values = await Promise.all([1, 2, 3].map(() => cache.getOrSet('k', async () => `v${++calls}`, { singleFlight: 'distributed' })));
    expect(values).toEqual(['v1', 'v1', 'v1']);
  });
});
