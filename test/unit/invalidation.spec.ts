import { describe, expect, it } from 'vitest';
import { type CacheEntry, type Duration, type CacheStore, type InvalidationBus, type InvalidationListener, LayeredCacheError, MemoryStore } from '../../lib';
import { createCacheEntry } from '../../lib/core/cache-entry';
import { deferred } from '../support/deferred';
import { newMemoryCache } from '../support/memory-cache';

/**
 * How the engine applies invalidations and announces its changes (DESIGN section 9), through a bus of the
 * test's own: an in-process `InvalidationBus` that the test drives like a second instance would.
 */
class InProcessBus implements InvalidationBus {
  readonly description = 'in-process bus';
  listener: InvalidationListener | undefined;
  prefix: string | undefined;
  readonly announced: { key: string; version: string | undefined }[] = [];
  readonly cleared: (string | undefined)[] = [];
  closed = false;

  async start(prefix: string, listener: InvalidationListener): Promise<void> {
    this.prefix = prefix;
    this.listener = listener;
  }

  announceChanged(key: string, version: string | undefined): void {
    this.announced.push({ key, version });
  }

  announceCleared(prefix: string | undefined): void {
    this.cleared.push(prefix);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  get on(): InvalidationListener {
    if (this.listener === undefined) throw new Error('the cache did not start the bus');
    return this.listener;
  }
}

/** An L2 whose reads and writes wait until the test lets them go. */
class HeldStore implements CacheStore {
  readonly inner = new MemoryStore();
  holdReads = false;
  holdWrites = false;
  readonly heldReads: (() => void)[] = [];
  readonly heldWrites: (() => void)[] = [];

  async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    const entry = this.inner.get<T>(key);
    if (!this.holdReads) return entry;
    const released = deferred();
    this.heldReads.push(() => released.resolve());
    await released.promise;
    return entry;
  }

  async set<T>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): Promise<void> {
    if (this.holdWrites) {
      const released = deferred();
      this.heldWrites.push(() => released.resolve());
      await released.promise;
    }
    this.inner.set(key, entry, ttlMs);
  }

  delete(key: string): void {
    this.inner.delete(key);
  }

  clear(prefix?: string): void {
    this.inner.clear(prefix);
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('invalidations received from other instances', () => {
  it('drop the L1 copy of a changed key, and the next read goes to L2', async () => {
    const bus = new InProcessBus();
    const { cache, l1, l2 } = newMemoryCache({ invalidation: bus });
    await cache.set('k', 'old');
    l2.set('ns:k', createCacheEntry('new', 60_000), 60_000);
    bus.on.keysChanged(['ns:k']);
    expect(l1.get('ns:k')).toBeUndefined();
    expect(await cache.get('k')).toBe('new');
    expect(cache.stats().invalidations).toBe(1);
  });

  it('win over an L2 read of the key that was in flight: its older reply does not refill L1', async () => {
    const bus = new InProcessBus();
    const l2 = new HeldStore();
    const { cache, l1 } = newMemoryCache({ l2, invalidation: bus });
    l2.inner.set('ns:k', createCacheEntry('old', 60_000), 60_000);
    l2.holdReads = true;
    const read = cache.get('k');
    await settle();
    expect(l2.heldReads).toHaveLength(1);
    bus.on.keysChanged(['ns:k']);
    l2.heldReads[0]();
    expect(await read).toBe('old');
    await settle();
    expect(l1.get('ns:k')).toBeUndefined();
  });

  it('make a getOrSet load of the key stale: its value is returned but kept in no layer', async () => {
    const bus = new InProcessBus();
    const { cache, l1, l2 } = newMemoryCache({ invalidation: bus });
    const factory = deferred<string>();
    const load = cache.getOrSet('k', () => factory.promise);
    await settle();
    bus.on.keysChanged(['ns:k']);
    factory.resolve('loaded before the change');
    expect(await load).toBe('loaded before the change');
    await settle();
    expect(l1.get('ns:k')).toBeUndefined();
    expect(l2.get('ns:k')).toBeUndefined();
  });

  it('clear every L1 copy under a prefix, and every copy of the namespace when the database was flushed', async () => {
    const bus = new InProcessBus();
    const { cache, l1 } = newMemoryCache({ invalidation: bus });
    await cache.set('a', 1);
    await cache.set('b', 2);
    bus.on.cleared('ns:');
    expect(l1.size).toBe(0);
    await cache.set('c', 3);
    bus.on.cleared(undefined);
    expect(l1.size).toBe(0);
  });

  it('after messages may have been lost, drop every L1 copy; before anything was cached, there is nothing to drop', async () => {
    const bus = new InProcessBus();
    const { cache, l1 } = newMemoryCache({ invalidation: bus });
    bus.on.lost();
    expect(cache.stats().invalidations).toBe(0);
    await cache.set('a', 1);
    bus.on.lost();
    expect(l1.size).toBe(0);
    expect(cache.stats().invalidations).toBe(1);
  });

  it('reports what the bus could not do as error events, and its notices to the logger', async () => {
    const bus = new InProcessBus();
    const logged: string[] = [];
    const { cache } = newMemoryCache({ invalidation: bus, logger: { log: (m) => logged.push(m), warn: (m) => logged.push(m), error: (m) => logged.push(m) } });
    const errors: string[] = [];
    cache.events$.subscribe((event) => {
      if (event.type === 'error') errors.push(`${event.operation}: ${event.error.message}`);
    });
    bus.on.failed(new Error('connection lost'));
    bus.on.notice('falls back to pub/sub');
    expect(errors).toEqual(['invalidate: connection lost']);
    expect(logged).toEqual(['falls back to pub/sub']);
  });
});

describe('changes this instance makes', () => {
  it('are announced once L2 acknowledged them, with the version of the write', async () => {
    const bus = new InProcessBus();
    const l2 = new HeldStore();
    const { cache } = newMemoryCache({ l2, invalidation: bus });
    l2.holdWrites = true;
    const written = cache.set('k', 'v');
    await settle();
    expect(bus.announced).toEqual([]);
    l2.heldWrites[0]();
    await written;
    expect(bus.announced).toHaveLength(1);
    expect(bus.announced[0].key).toBe('ns:k');
    expect(bus.announced[0].version).toMatch(/^\d{23}$/);
  });

  it('announce deletes and clears, and not a write that L2 refused', async () => {
    const bus = new InProcessBus();
    const failing: CacheStore = { get: () => undefined, set: () => Promise.reject(new Error('down')), delete: () => undefined, clear: () => undefined };
    const { cache } = newMemoryCache({ l2: failing, invalidation: bus, resilience: false });
    await cache.set('k', 'v');
    expect(bus.announced).toEqual([]);
    await cache.delete('k');
    expect(bus.announced.map((change) => change.key)).toEqual(['ns:k']);
    await cache.clear();
    expect(bus.cleared).toEqual(['ns:']);
  });

  it('are started with the namespace prefix, and the bus is closed with the cache', async () => {
    const bus = new InProcessBus();
    const { cache } = newMemoryCache({ invalidation: bus });
    await cache.invalidationStarted;
    expect(bus.prefix).toBe('ns:');
    await cache.store.close();
    expect(bus.closed).toBe(true);
  });
});

describe('how long L1 keeps an entry', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Reads `key` twice, `ms` apart: true when the second read was still answered by L1. */
  async function stillInL1After(cache: ReturnType<typeof newMemoryCache>['cache'], read: () => Promise<unknown>, ms: number): Promise<boolean> {
    await read();
    await settle();
    const before = cache.stats().l1.hits;
    await sleep(ms);
    await read();
    return cache.stats().l1.hits > before;
  }

  it('a copy of an L2 hit lasts no longer than this instance TTL, whatever TTL the writer gave it', async () => {
    const { cache, l2 } = newMemoryCache({ ttl: 100, invalidation: false });
    l2.set('ns:k', createCacheEntry('from a writer with a long TTL', 3_600_000), 3_600_000);
    expect(await stillInL1After(cache, () => cache.get('k'), 20)).toBe(true);
    expect(await stillInL1After(cache, () => cache.get('k'), 150)).toBe(false);
    expect(await cache.get('k')).toBe('from a writer with a long TTL');
  });

  it('a copy from a writer whose clock runs an hour ahead lasts no longer than the reader TTL either', async () => {
    const { cache, l2 } = newMemoryCache({ ttl: 100, invalidation: false });
    l2.set('ns:k', createCacheEntry('from the future', 60_000, Date.now() + 3_600_000), 60_000);
    expect(await stillInL1After(cache, () => cache.get('k'), 150)).toBe(false);
  });

  it('a getOrSet with its own ttl bounds its refill by that ttl', async () => {
    const { cache, l2 } = newMemoryCache({ ttl: 60_000, invalidation: false });
    l2.set('ns:own-ttl', createCacheEntry('v', 3_600_000), 3_600_000);
    l2.set('ns:default-ttl', createCacheEntry('v', 3_600_000), 3_600_000);
    expect(await stillInL1After(cache, () => cache.getOrSet('own-ttl', () => 'unused', { ttl: 100 }), 150)).toBe(false);
    expect(await stillInL1After(cache, () => cache.getOrSet('default-ttl', () => 'unused'), 150)).toBe(true);
  });

  it('l1MaxTtl bounds writes and refills alike, and leaves L2 its own TTL', async () => {
    const { cache, l2 } = newMemoryCache({ ttl: 60_000, l1MaxTtl: 100, invalidation: false });
    await cache.set('written', 'v');
    expect(await stillInL1After(cache, () => cache.get('written'), 150)).toBe(false);
    expect(await stillInL1After(cache, () => cache.get('written'), 150)).toBe(false);
    expect(l2.get('ns:written')?.expiresAt).toBeGreaterThan(Date.now() + 50_000);
  });

  it('takes l1MaxTtl written with its unit', async () => {
    const { cache } = newMemoryCache({ ttl: 60_000, l1MaxTtl: '0.1s', invalidation: false });
    await cache.set('written', 'v');
    expect(await stillInL1After(cache, () => cache.get('written'), 150)).toBe(false);
  });

  it('refuses an l1MaxTtl that is not a positive number of milliseconds', () => {
    for (const l1MaxTtl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '0s', '10 s', '10'] as unknown as Duration[]) {
      expect(() => newMemoryCache({ l1MaxTtl })).toThrow(/l1MaxTtl must be a positive number of milliseconds/);
    }
  });
});

describe('the invalidation option', () => {
  it('refuses a Redis mode over an L2 that cannot carry it, saying what to pass instead', () => {
    expect(() => newMemoryCache({ invalidation: 'tracking' })).toThrow(LayeredCacheError);
    expect(() => newMemoryCache({ invalidation: 'pubsub' })).toThrow(/needs a RedisStore as L2, but L2 is a MemoryStore\. Pass an InvalidationBus of your own, or invalidation: false/);
  });

  it('refuses a value that is neither a mode, false nor a bus', () => {
    expect(() => newMemoryCache({ invalidation: 'broadcast' as never })).toThrow(/invalidation must be 'auto', 'tracking', 'pubsub', false or an InvalidationBus/);
    expect(() => newMemoryCache({ invalidation: {} as never })).toThrow(/invalidation must be/);
  });

  it('needs nothing without an L2, and nothing from an L2 that cannot carry it by default', async () => {
    expect(newMemoryCache({ l2: null }).cache.store.invalidation).toBeNull();
    expect(newMemoryCache().cache.store.invalidation).toBeNull();
  });
});
