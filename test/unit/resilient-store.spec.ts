import { describe, expect, it } from 'vitest';
import { type CacheEvent, type CacheStore, CacheEventBus, CacheSerializationError, CacheTimeoutError, CircuitOpenError, createCacheEntry, LayeredCacheError, MemoryStore } from '../../lib';
import { ChaosStore } from '../../lib/testing';
import type { ReplayDecision } from '../../lib/resilience/l2-write-replay-queue';
import { ResilientStore, type ResilientStoreOptions } from '../../lib/resilience/resilient-store';
import { deferred } from '../support/deferred';
import { eventually, sleep } from '../support/redis';

function setup(options: ResilientStoreOptions = {}) {
  const memory = new MemoryStore();
  const chaos = new ChaosStore(memory);
  const events = new CacheEventBus();
  const seen: CacheEvent[] = [];
  events.events$.subscribe((event) => seen.push(event));
  const logs: string[] = [];
  const logger = { log: (m: string) => logs.push(`log:${m}`), warn: (m: string) => logs.push(`warn:${m}`), error: (m: string) => logs.push(`error:${m}`) };
  const store = new ResilientStore(chaos, { timeoutMs: 30, breaker: { failureThreshold: 3, cooldownMs: 60 }, ...options, events, logger });
  return { store, chaos, memory, seen, logs };
}

const tolerated = (): ReplayDecision => ({ state: 'tolerated' });
const entry = (value: unknown) => createCacheEntry(value, 60_000);

describe('ResilientStore time limit', () => {
  it('gives up on a hung call at its time limit with CacheTimeoutError, and counts it', async () => {
    const { store, chaos } = setup();
    chaos.hang();
    const started = performance.now();
    const error = await store.get('k').catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(CacheTimeoutError);
    expect((error as Error).message).toMatch(/L2 get did not answer within 30 ms.*resilience.timeoutMs/);
    expect(elapsed).toBeGreaterThanOrEqual(25);
    expect(elapsed).toBeLessThan(300);
    expect(store.stats().timeouts).toBe(1);
    chaos.recover();
  });

  it('takes a per-call time limit instead of its own', async () => {
    const { store, chaos } = setup({ timeoutMs: 5_000 });
    chaos.hang();
    const started = performance.now();
    await expect(store.set('k', entry(1), undefined, { timeoutMs: 20 })).rejects.toThrow(/L2 set did not answer within 20 ms/);
    expect(performance.now() - started).toBeLessThan(1_000);
    chaos.recover();
  });

  it('does not call the store when the call has no time left, and does not blame the store for it', async () => {
    const { store, chaos } = setup();
    for (let i = 0; i < 5; i++) await expect(store.set('k', entry(1), undefined, { timeoutMs: 0 })).rejects.toThrow(/was not attempted.*budget/);
    expect(chaos.stats().calls).toBe(0);
    expect(store.stats().breaker?.state).toBe('closed');
  });
});

describe('ResilientStore circuit breaker', () => {
  it('opens after repeated failures: L2 is skipped at once, the change is an event and a warning', async () => {
    const { store, chaos, seen, logs } = setup({ timeoutMs: 1_000 });
    chaos.fail();
    for (let i = 0; i < 3; i++) await expect(store.get('k')).rejects.toThrow(/injected a failure/);
    const callsWhenOpened = chaos.stats().calls;

    const started = performance.now();
    const skipped = await store.get('k').catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(500); // the 1 s time limit was not waited for
    expect(skipped).toBeInstanceOf(CircuitOpenError);
    expect((skipped as Error).message).toMatch(/circuit breaker opened after 3 consecutive failure.*60 ms/);
    expect(chaos.stats().calls).toBe(callsWhenOpened);
    expect(seen.filter((e) => e.type === 'circuit')).toEqual([
      expect.objectContaining({ type: 'circuit', layer: 'l2', state: 'open', previous: 'closed', failures: 3, cooldownMs: 60 }),
    ]);
    expect(logs).toEqual([expect.stringMatching(/^warn:L2 failed 3 time\(s\) in a row \(last: .*injected.*\): skipping it for 60 ms/)]);
    expect(store.stats().breaker).toMatchObject({ state: 'open', opened: 1, refused: 1 });
  });

  it('probes after the cool-down and closes when the probe succeeds', async () => {
    const { store, chaos, seen, logs } = setup();
    chaos.fail();
    for (let i = 0; i < 3; i++) await store.get('k').catch(() => undefined);
    chaos.recover();
    await sleep(70);
    await expect(store.get('k')).resolves.toBeUndefined();
    expect(store.stats().breaker?.state).toBe('closed');
    expect(seen.filter((e) => e.type === 'circuit').map((e) => (e.type === 'circuit' ? e.state : ''))).toEqual(['open', 'half-open', 'closed']);
    expect(logs.at(-1)).toBe('log:L2 answers again: its circuit breaker closed.');
  });

  it('counts a store that throws instead of rejecting as failing, and a probe that throws lets the next one through', async () => {
    let throwing = true;
    const memory = new MemoryStore();
    const inner: CacheStore = {
      get: <T>(key: string) => {
        if (throwing) throw new Error('thrown, not rejected');
        return memory.get<T>(key);
      },
      set: (key, value, ttl) => memory.set(key, value, ttl),
      delete: (key) => memory.delete(key),
    };
    const store = new ResilientStore(inner, { timeoutMs: 30, breaker: { failureThreshold: 2, cooldownMs: 40 } });
    for (let i = 0; i < 2; i++) await expect(store.get('k')).rejects.toThrow('thrown, not rejected');
    expect(store.stats().breaker?.state).toBe('open');
    await sleep(50);
    await expect(store.get('k')).rejects.toThrow('thrown, not rejected'); // the probe
    throwing = false;
    await sleep(50);
    await expect(store.get('k')).resolves.toBeUndefined();
    expect(store.stats().breaker?.state).toBe('closed');
  });

  it('counts timeouts as failures', async () => {
    const { store, chaos } = setup();
    chaos.hang();
    for (let i = 0; i < 3; i++) await store.get('k').catch(() => undefined);
    await expect(store.get('k')).rejects.toBeInstanceOf(CircuitOpenError);
    chaos.recover();
  });

  it('does not count undecodable entries or unencodable values as L2 failures', async () => {
    const { store, chaos } = setup();
    chaos.configure({ failureRate: 1, errorFactory: () => new CacheSerializationError('corrupt') });
    for (let i = 0; i < 5; i++) await expect(store.get('k')).rejects.toBeInstanceOf(CacheSerializationError);
    for (let i = 0; i < 5; i++) await expect(store.set('k', entry(1), undefined)).rejects.toBeInstanceOf(CacheSerializationError);
    expect(store.stats().breaker).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('does not skip clear: a clear that did not happen must be reported, not assumed', async () => {
    const { store, chaos, memory } = setup();
    await memory.set('a:1', entry(1), undefined);
    chaos.configure({ failureRate: 1, operations: ['get'] });
    for (let i = 0; i < 3; i++) await store.get('k').catch(() => undefined);
    expect(store.stats().breaker?.state).toBe('open');
    await store.clear('a:');
    expect(await memory.get('a:1')).toBeUndefined();
  });

  it('can be turned off', async () => {
    const { store, chaos } = setup({ breaker: false });
    chaos.fail();
    for (let i = 0; i < 10; i++) await store.get('k').catch(() => undefined);
    expect(chaos.stats().calls).toBe(10);
    expect(store.stats().breaker).toBeUndefined();
  });
});

describe('ResilientStore replay of failed writes', () => {
  it('keeps a failed write whose policy tolerated it and replays it after the next L2 success', async () => {
    const { store, chaos, memory, seen } = setup({ breaker: false });
    chaos.fail();
    await expect(store.set('k', entry('v'), 60_000, { decision: tolerated() })).rejects.toThrow();
    expect(store.stats().replay).toMatchObject({ pending: 1, kept: 1 });
    chaos.recover();
    await store.get('other');
    // The replay is counted once the write has settled, a moment after the value is readable.
    expect(await eventually(async () => (await memory.get('k'))?.value === 'v' && store.stats().replay?.replayed === 1)).toBe(true);
    expect(store.stats().replay).toMatchObject({ pending: 0, replayed: 1 });
    expect(seen.filter((e) => e.type === 'replay').map((e) => (e.type === 'replay' ? `${e.outcome}:${e.key}` : ''))).toEqual(['kept:k', 'replayed:k']);
  });

  it('replays with the remaining TTL', async () => {
    const { store, chaos, memory } = setup({ breaker: false });
    chaos.fail();
    const written = createCacheEntry('v', 10_000, Date.now() - 4_000);
    await store.set('k', written, 10_000, { decision: tolerated() }).catch(() => undefined);
    chaos.recover();
    await store.get('other');
    expect(await eventually(async () => (await memory.get('k')) !== undefined)).toBe(true);
    expect((await memory.get('k'))?.expiresAt).toBe(written.expiresAt);
  });

  it('does not keep writes without a decision, or whose policy refused them', async () => {
    const { store, chaos } = setup({ breaker: false });
    chaos.fail();
    await store.set('a', entry(1), undefined).catch(() => undefined);
    const decision: ReplayDecision = { state: 'pending' };
    await store.set('b', entry(2), undefined, { decision }).catch(() => undefined);
    expect(store.stats().replay?.pending).toBe(1);
    store.decide('b', decision, false);
    expect(store.stats().replay).toMatchObject({ pending: 0, withdrawn: 1 });
  });

  it('never lets an older failed write overwrite a newer one that succeeded', async () => {
    const memory = new MemoryStore();
    const slowFailure = deferred();
    let calls = 0;
    // The first write hangs until the test fails it; later writes succeed at once.
    const inner: CacheStore = {
      get: (key) => memory.get(key),
      set: (key, value, ttl) => (++calls === 1 ? slowFailure.promise : memory.set(key, value, ttl)),
      delete: (key) => memory.delete(key),
    };
    const store = new ResilientStore(inner, { timeoutMs: 1_000, breaker: false });
    const older = store.set('k', entry('old'), undefined, { decision: tolerated() });
    await store.set('k', entry('new'), undefined, { decision: tolerated() });
    slowFailure.reject(new Error('connection reset'));
    await expect(older).rejects.toThrow('connection reset');
    expect(store.stats().replay).toMatchObject({ pending: 0, kept: 0 });
    expect((await memory.get('k'))?.value).toBe('new');
  });

  it('a delete replaces a kept write of its key and is replayed as a delete', async () => {
    const { store, chaos, memory } = setup({ breaker: false });
    await memory.set('k', entry('stale'), undefined);
    chaos.fail();
    await store.set('k', entry('v'), undefined, { decision: tolerated() }).catch(() => undefined);
    await store.delete('k', undefined, { decision: tolerated() }).catch(() => undefined);
    expect(store.stats().replay).toMatchObject({ pending: 1, superseded: 1 });
    chaos.recover();
    await store.get('x');
    expect(await eventually(async () => (await memory.get('k')) === undefined)).toBe(true);
  });

  it('clear cancels the kept writes it covers', async () => {
    const { store, chaos } = setup({ breaker: false });
    chaos.configure({ failureRate: 1, operations: ['set'] });
    await store.set('a:1', entry(1), undefined, { decision: tolerated() }).catch(() => undefined);
    await store.set('b:1', entry(1), undefined, { decision: tolerated() }).catch(() => undefined);
    await store.clear('a:');
    expect(store.stats().replay?.superseded).toBe(1);
    // The successful clear starts a replay of b:1, which fails and keeps it again.
    expect(await eventually(() => store.stats().replay?.pending === 1 && store.stats().replay?.failedAttempts === 1)).toBe(true);
  });

  it('replays on its own, without traffic: the first kept write probes the open breaker', async () => {
    const { store, chaos, memory } = setup();
    chaos.fail();
    for (let i = 0; i < 3; i++) await store.set(`k${i}`, entry(i), undefined, { decision: tolerated() }).catch(() => undefined);
    expect(store.stats().breaker?.state).toBe('open');
    chaos.recover();
    expect(await eventually(() => store.stats().replay?.pending === 0, 2_000)).toBe(true);
    expect(store.stats().breaker?.state).toBe('closed');
    for (let i = 0; i < 3; i++) expect((await memory.get(`k${i}`))?.value).toBe(i);
  });

  it('retries on its own after retryDelayMs when there is no breaker', async () => {
    const { store, chaos, memory } = setup({ breaker: false, replay: { retryDelayMs: 20 } });
    chaos.fail();
    await store.set('k', entry(1), undefined, { decision: tolerated() }).catch(() => undefined);
    chaos.recover();
    expect(await eventually(async () => (await memory.get('k')) !== undefined, 1_000)).toBe(true);
  });

  it('can be turned off', async () => {
    const { store, chaos } = setup({ replay: false });
    chaos.fail();
    await store.set('k', entry(1), undefined, { decision: tolerated() }).catch(() => undefined);
    expect(store.stats().replay).toBeUndefined();
  });
});

describe('ResilientStore shutdown', () => {
  it('replays what is kept before it resolves, even while the breaker rests', async () => {
    const { store, chaos, memory } = setup({ breaker: { failureThreshold: 1, cooldownMs: 60_000 } });
    chaos.fail();
    await store.set('a', entry(1), undefined, { decision: tolerated() }).catch(() => undefined);
    await store.set('b', entry(2), undefined, { decision: tolerated() }).catch(() => undefined);
    chaos.recover();
    expect(await store.shutdown(1_000)).toEqual({ replayed: 2, abandoned: 0, unanswered: 0 });
    expect((await memory.get('b'))?.value).toBe(2);
  });

  it('gives up within its bound when L2 stays down, counting and logging what it abandons', async () => {
    const { store, chaos, logs } = setup();
    chaos.fail();
    for (let i = 0; i < 4; i++) await store.set(`k${i}`, entry(i), undefined, { decision: tolerated() }).catch(() => undefined);
    chaos.hang();
    const started = performance.now();
    expect(await store.shutdown(200)).toEqual({ replayed: 0, abandoned: 4, unanswered: 0 });
    expect(performance.now() - started).toBeLessThan(600);
    expect(logs.at(-1)).toMatch(/^error:Shutdown could not write 4 kept L2 write\(s\) within 200 ms/);
    chaos.recover();
    // A write that fails after shutdown is not kept (nothing would replay it) but counted.
    chaos.fail();
    await store.set('late', entry(1), undefined, { decision: tolerated() }).catch(() => undefined);
    expect(store.stats().replay).toMatchObject({ pending: 0, abandoned: 5 });
  });

  it('rejects options out of range with messages naming them', () => {
    const memory = new MemoryStore();
    expect(() => new ResilientStore(memory, { timeoutMs: 0 })).toThrow(/Invalid timeoutMs 0/);
    expect(() => new ResilientStore(memory, { timeoutMs: Number.NaN })).toThrow(LayeredCacheError);
    expect(() => new ResilientStore(memory, { replay: { retryDelayMs: -1 } })).toThrow(/replay.retryDelayMs/);
    expect(() => new ResilientStore(memory, { breaker: { failureThreshold: 0 } })).toThrow(/breaker.failureThreshold/);
  });
});
