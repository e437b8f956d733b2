import { describe, expect, it } from 'vitest';
import { type CacheEvent, CacheLayerError, CacheTimeoutError, CircuitOpenError, createCacheEntry, LayeredCache, type LayeredCacheDependencies, MemoryStore, OffloadService, RaceWritePolicy, SequentialWritePolicy } from '../../lib';
import { ChaosStore } from '../../lib/testing';
import { eventually, sleep } from '../support/redis';

const TIMEOUT = 50;

function setup(overrides: Partial<LayeredCacheDependencies> = {}) {
  const l1 = new MemoryStore();
  const l2Memory = new MemoryStore();
  const chaos = new ChaosStore(l2Memory);
  const offload = new OffloadService();
  const cache = new LayeredCache({
    l1,
    l2: chaos,
    offload,
    namespace: 'ns',
    resilience: { timeoutMs: TIMEOUT, breaker: { failureThreshold: 3, cooldownMs: 100 }, replay: { retryDelayMs: 50 } },
    ...overrides,
  });
  const seen: CacheEvent[] = [];
  cache.events$.subscribe((event) => seen.push(event));
  return { cache, l1, l2Memory, chaos, offload, seen };
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

describe('LayeredCache when L2 hangs', () => {
  it('getOrSet returns the factory value after at most one time limit, read and write together', async () => {
    const { cache, chaos } = setup();
    chaos.hang();
    const { value, ms } = await timed(() => cache.getOrSet('k', () => 'computed', { timeoutMs: 300 }));
    expect(value).toBe('computed');
    expect(ms).toBeGreaterThanOrEqual(295);
    expect(ms).toBeLessThan(550); // not two time limits (600): the write had no L2 budget left
    expect(cache.stats().resilience?.replay?.pending).toBe(1); // kept for replay
    expect(chaos.stats().calls).toBe(1); // the write was not even sent
    chaos.recover();
  });

  it('a write queued behind a hung write of the same key is not sent once its time limit has passed, and says it waited', async () => {
    const { cache, chaos, l2Memory, seen } = setup();
    chaos.hang();
    // The first write hangs for its whole time limit (50 ms); the second, with 20 ms, waits behind it.
    await Promise.all([cache.set('k', 1), cache.set('k', 2, { timeoutMs: 20 })]);
    expect(await eventually(() => seen.filter((e) => e.type === 'error').length === 2)).toBe(true);
    expect(chaos.stats().calls).toBe(1); // the second write's turn came after its time limit
    const waited = seen.find((e) => e.type === 'error' && /not attempted/.test(e.error.message));
    expect(waited?.type === 'error' && waited.error.message).toMatch(/waiting for earlier calls on the same key/);
    chaos.recover();
    expect(await eventually(async () => (await l2Memory.get('ns:k'))?.value === 2 && cache.stats().resilience?.replay?.pending === 0)).toBe(true); // the newer write is replayed
  });

  it('a per-call timeoutMs replaces the module default', async () => {
    const { cache, chaos } = setup({ resilience: { timeoutMs: 5_000 } });
    chaos.hang();
    const { ms } = await timed(() => cache.getOrSet('k', () => 1, { timeoutMs: 30 }));
    expect(ms).toBeLessThan(400);
    const error = await cache.get('k2', { timeoutMs: 30 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheLayerError);
    expect((error as CacheLayerError).cause).toBeInstanceOf(CacheTimeoutError);
    await expect(cache.set('k3', 1, { timeoutMs: 30 })).resolves.toBeUndefined(); // L1 took it; L2 kept for replay
    await expect(cache.delete('k3', { timeoutMs: 30 })).resolves.toBeUndefined();
    chaos.recover();
  });

  it('reports each timeout as an error event of L2', async () => {
    const { cache, chaos, seen } = setup();
    chaos.hang();
    await cache.get('k').catch(() => undefined);
    const errors = seen.filter((e) => e.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ layer: 'l2', operation: 'get', key: 'ns:k' });
    chaos.recover();
  });

  it('rejects a timeoutMs that is not a positive number of milliseconds', async () => {
    const { cache } = setup();
    await expect(cache.get('k', { timeoutMs: 0 })).rejects.toThrow(/Invalid timeoutMs 0/);
    await expect(cache.getOrSet('k', () => 1, { timeoutMs: -1 })).rejects.toThrow(/Invalid timeoutMs -1/);
    await expect(cache.set('k', 1, { timeoutMs: Number.NaN })).rejects.toThrow(/Invalid timeoutMs NaN/);
  });
});

describe('LayeredCache with an open L2 breaker', () => {
  async function tripped() {
    const setupResult = setup();
    setupResult.chaos.fail();
    for (let i = 0; i < 3; i++) await setupResult.cache.get(`trip${i}`).catch(() => undefined);
    expect(setupResult.cache.stats().resilience?.breaker?.state).toBe('open');
    return setupResult;
  }

  it('reads are misses at once, without error events', async () => {
    const { cache, chaos, seen } = await tripped();
    const errorsBefore = seen.filter((e) => e.type === 'error').length;
    const { value, ms } = await timed(() => cache.get('k'));
    expect(value).toBeUndefined();
    expect(ms).toBeLessThan(TIMEOUT); // L2 was not waited for
    const calls = chaos.stats().calls;
    expect(await cache.getOrSet('k', () => 'fresh')).toBe('fresh');
    expect(chaos.stats().calls).toBe(calls); // L2 was not touched
    expect(seen.filter((e) => e.type === 'error').length).toBe(errorsBefore);
    expect(cache.stats().resilience?.breaker?.refused).toBeGreaterThanOrEqual(3);
  });

  it('a tolerant policy writes L1 and keeps the L2 write; a sequential one rejects with CircuitOpenError as cause', async () => {
    const { cache, l1 } = await tripped();
    await cache.set('a', 1);
    expect((await l1.get('ns:a'))?.value).toBe(1);
    expect(cache.stats().resilience?.replay?.pending).toBe(1);
    const error = await cache.set('b', 2, { writePolicy: new SequentialWritePolicy() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheLayerError);
    expect((error as CacheLayerError).cause).toBeInstanceOf(CircuitOpenError);
    expect(cache.stats().resilience?.replay?.pending).toBe(1); // the refused write is not replayed
  });

  it('shows the state in circuit events and stats', async () => {
    const { seen, cache } = await tripped();
    expect(seen.filter((e) => e.type === 'circuit')).toEqual([expect.objectContaining({ type: 'circuit', layer: 'l2', state: 'open', previous: 'closed' })]);
    expect(cache.stats().resilience).toMatchObject({ timeoutMs: TIMEOUT, breaker: { state: 'open', opened: 1 } });
  });
});

describe('LayeredCache replays L2 after it recovers', () => {
  it('writes kept under the default policy converge in L2, newest value per key', async () => {
    const { cache, chaos, l2Memory } = setup();
    chaos.fail();
    for (let i = 0; i < 10; i++) await cache.set(`k${i % 3}`, i);
    chaos.recover();
    expect(await eventually(() => cache.stats().resilience?.replay?.pending === 0, 3_000)).toBe(true);
    expect((await l2Memory.get('ns:k0'))?.value).toBe(9);
    expect((await l2Memory.get('ns:k1'))?.value).toBe(7);
    expect((await l2Memory.get('ns:k2'))?.value).toBe(8);
  });

  it('a race loser that failed on L2 is replayed', async () => {
    const { cache, chaos, l2Memory, offload } = setup({ writePolicy: new RaceWritePolicy() });
    chaos.configure({ latencyMs: 10, failureRate: 1 });
    await cache.set('k', 'v'); // L1 wins; the L2 loser fails in the background
    await offload.drain();
    expect(cache.stats().resilience?.replay?.pending).toBe(1);
    chaos.recover();
    expect(await eventually(async () => (await l2Memory.get('ns:k'))?.value === 'v', 3_000)).toBe(true);
  });

  it('background puts that failed on L2 are reported one by one and replayed', async () => {
    const { cache, chaos, l2Memory, offload, seen } = setup({
      resilience: { timeoutMs: TIMEOUT, breaker: { failureThreshold: 10, cooldownMs: 100 }, replay: { retryDelayMs: 50 } },
    });
    chaos.configure({ failureRate: 1, operations: ['set'] });
    for (let i = 0; i < 5; i++) await cache.put(`k${i}`, i, { background: true });
    await offload.drain();
    expect(seen.filter((e) => e.type === 'error' && e.layer === 'l2').map((e) => (e.type === 'error' ? e.key : ''))).toEqual(['ns:k0', 'ns:k1', 'ns:k2', 'ns:k3', 'ns:k4']);
    expect(cache.stats().resilience?.replay?.pending).toBe(5);
    chaos.recover();
    expect(await eventually(async () => (await l2Memory.get('ns:k4'))?.value === 4 && cache.stats().resilience?.replay?.pending === 0, 3_000)).toBe(true);
  });

  it('a failed L2 delete is replayed so a stale entry does not outlive the outage', async () => {
    const { cache, chaos, l2Memory } = setup();
    await l2Memory.set('ns:k', createCacheEntry('stale', 60_000), 60_000);
    chaos.fail();
    await expect(cache.delete('k')).resolves.toBeUndefined();
    chaos.recover();
    expect(await eventually(async () => (await l2Memory.get('ns:k')) === undefined, 3_000)).toBe(true);
  });

  it('an eviction cancels a kept write', async () => {
    const { cache, chaos, l2Memory } = setup();
    chaos.configure({ failureRate: 1, operations: ['set'] });
    await cache.set('k', 'v');
    expect(cache.stats().resilience?.replay?.pending).toBe(1);
    chaos.recover();
    await cache.delete('k');
    await sleep(100);
    expect(await l2Memory.get('ns:k')).toBeUndefined();
    expect(cache.stats().resilience?.replay).toMatchObject({ pending: 0, replayed: 0, superseded: 1 });
  });

  it('shutdown replays what is still kept', async () => {
    const { cache, chaos, l2Memory } = setup({ resilience: { timeoutMs: TIMEOUT, breaker: { failureThreshold: 1, cooldownMs: 60_000 } } });
    chaos.fail();
    await cache.set('a', 1);
    await cache.set('b', 2);
    chaos.recover();
    expect(await cache.store.shutdown(1_000)).toEqual({ replayed: 2, abandoned: 0, unanswered: 0 });
    expect((await l2Memory.get('ns:b'))?.value).toBe(2);
  });

  it('with resilience off, L2 is called bare and nothing is kept', async () => {
    const { cache, chaos } = setup({ resilience: false });
    chaos.fail();
    await cache.set('k', 1);
    expect(cache.stats().resilience).toBeUndefined();
    expect(cache.store.l2Resilience).toBeNull();
  });
});

describe('LayeredCache when an L2 write fails', () => {
  it('a sequential write whose L2 write fails has its kept write withdrawn before the caller resumes', async () => {
    const { cache, chaos } = setup();
    chaos.fail();
    const replayWhenCallerResumed = await cache.set('k', 1, { writePolicy: new SequentialWritePolicy() }).then(
      () => undefined,
      () => cache.stats().resilience?.replay,
    );
    expect(replayWhenCallerResumed).toMatchObject({ pending: 0, withdrawn: 1 });
    chaos.recover();
  });
});
