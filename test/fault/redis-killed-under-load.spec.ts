import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Product, sampleProduct } from '../fixtures/products';
import { bootFaultApp, envelopeValue, type FaultApp, rawClient } from '../support/fault-app';
import { eventually, holdsEntry, sleep } from '../support/redis';
import { RedisServer } from '../support/redis-server';

/*
 * Decorated methods run steadily (bounded in calls and time) while the test's own Redis is SIGKILLed for a
 * few seconds and restarted empty. Callers must see no error and no call may wait much longer than the L2
 * time limit; memory and queues stay bounded; once Redis is back, every write made since the kill is in
 * Redis, whether it went there directly or was replayed.
 */

const TIMEOUT_MS = 200; // the default resilience.timeoutMs
const SLACK_MS = 300; // event-loop lag on a loaded two-core machine
const MAX_CALLS = 6_000;
const MAX_LOAD_MS = 14_000;
const KILL_AT_MS = 2_000;
const DOWN_FOR_MS = 3_000;
const WORKERS = 8;
const KEYS_PER_KIND = 48;

interface Call {
  readonly op: 'findOne' | 'save' | 'remove';
  readonly startedAt: number;
  readonly ms: number;
  readonly error?: unknown;
}

/** The last write each worker made to a key it owns (keys are not shared between workers). */
type LastWrite = { readonly op: 'save'; readonly price: number; readonly at: number } | { readonly op: 'remove'; readonly at: number };

describe('Redis killed under load, then restarted', () => {
  let redis: RedisServer;
  let subject: FaultApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    subject = await bootFaultApp('killed-under-load', redis.url, { resilience: { breaker: { failureThreshold: 5, cooldownMs: 1_000 } } });
  });

  afterAll(async () => {
    await subject?.app.close();
    await redis?.stop();
  });

  it('keeps every call working and bounded, and converges L2 after the restart', { timeout: 60_000 }, async () => {
    const { service, cache } = subject;
    const readIds = Array.from({ length: KEYS_PER_KIND }, (_, i) => `r${i}`);
    const writeIds = Array.from({ length: KEYS_PER_KIND }, (_, i) => `w${i}`);
    for (const id of readIds) service.repository.rows.set(id, sampleProduct(id, 1_000));

    const calls: Call[] = [];
    const lastWrite = new Map<string, LastWrite>();
    let price = 0;
    let peakReplayPending = 0;
    let peakOffload = 0;
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();
    let killedAt = Number.POSITIVE_INFINITY;
    let restartedAt = Number.POSITIVE_INFINITY;
    const loadRunning = () => calls.length < MAX_CALLS && Date.now() - started < MAX_LOAD_MS;

    const sampler = setInterval(() => {
      const stats = cache.stats();
      peakReplayPending = Math.max(peakReplayPending, stats.resilience?.replay?.pending ?? 0);
      peakOffload = Math.max(peakOffload, (stats.offload?.queued ?? 0) + (stats.offload?.running ?? 0));
    }, 50);

    const worker = async (index: number): Promise<void> => {
      const owned = writeIds.filter((_, i) => i % WORKERS === index);
      while (loadRunning()) {
        const dice = Math.random();
        const startedAt = Date.now();
        const t0 = performance.now();
        let op: Call['op'] = 'findOne';
        try {
          if (dice < 0.55) {
            await service.findOne(readIds[Math.floor(Math.random() * readIds.length)]);
          } else {
            const id = owned[Math.floor(Math.random() * owned.length)];
            if (dice < 0.9) {
              op = 'save';
              const product: Product = sampleProduct(id, ++price);
              await service.save(product);
              lastWrite.set(id, { op, price: product.price, at: startedAt });
            } else {
              op = 'remove';
              await service.remove(id);
              lastWrite.set(id, { op, at: startedAt });
            }
          }
          calls.push({ op, startedAt, ms: performance.now() - t0 });
        } catch (error) {
          calls.push({ op, startedAt, ms: performance.now() - t0, error });
        }
        await sleep(15);
      }
    };

    const chaos = (async () => {
      await sleep(KILL_AT_MS);
      await redis.kill('SIGKILL');
      killedAt = Date.now();
      await sleep(DOWN_FOR_MS);
      await redis.restart();
      restartedAt = Date.now();
    })();

    await Promise.all([...Array.from({ length: WORKERS }, (_, i) => worker(i)), chaos]);
    clearInterval(sampler);

    // Zero caller-visible errors, every call bounded by the time limit (p99 included).
    expect(calls.filter((call) => call.error !== undefined)).toEqual([]);
    expect(calls.length).toBeGreaterThan(1_500);
    const durations = calls.map((call) => call.ms).sort((a, b) => a - b);
    const p99 = durations[Math.floor(durations.length * 0.99)];
    const slowest = durations.at(-1) as number;
    expect(p99).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(slowest).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    // The outage really happened under load, and the breaker took L2 out and put it back.
    expect(calls.filter((call) => call.startedAt >= killedAt && call.startedAt < restartedAt).length).toBeGreaterThan(200);
    expect(cache.stats().resilience?.breaker?.opened).toBeGreaterThanOrEqual(1);

    // Bounded memory and queues.
    expect(peakReplayPending).toBeLessThanOrEqual(2 * KEYS_PER_KIND);
    expect(peakOffload).toBeLessThan(1_000);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(150 * 1024 * 1024);

    // After recovery: L2 healthy, nothing left to replay, and what was replayed is in Redis.
    expect(await eventually(() => cache.stats().resilience?.breaker?.state === 'closed' && cache.stats().resilience?.replay?.pending === 0, 15_000, 50)).toBe(true);
    const replay = cache.stats().resilience?.replay;
    expect(replay?.replayed).toBeGreaterThan(0);
    expect(replay?.dropped).toBe(0);

    const client = await rawClient(redis.url);
    try {
      const keyOf = (id: string) => `${subject.namespace}:product:${id}`;
      let checked = 0;
      for (const [id, last] of lastWrite) {
        if (last.at < killedAt) continue; // written before the kill: Redis lost it with its memory
        const stored = await client.get(keyOf(id));
        if (last.op === 'remove') expect(holdsEntry(stored), `${id} was removed last`).toBe(false);
        else expect((envelopeValue(stored) as Product | undefined)?.price, `${id} was saved last with price ${last.price}`).toBe(last.price);
        checked++;
      }
      expect(checked).toBeGreaterThan(KEYS_PER_KIND / 2);
      const replayedReads = subject.events.filter((e) => e.type === 'replay' && e.outcome === 'replayed' && e.operation === 'set' && e.key.includes(':product:r'));
      for (const event of replayedReads) {
        if (event.type !== 'replay') continue;
        expect((envelopeValue(await client.get(event.key)) as Product | undefined)?.price).toBe(1_000);
      }
    } finally {
      client.destroy();
    }
  });
});
