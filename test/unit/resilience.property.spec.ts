import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BothLayersFailedError, type CacheLayer, CacheLayerError, CacheTimeoutError, createCacheEntry, LayeredStore, MemoryStore, OffloadService, OptimisticParallelWritePolicy, ParallelReadPolicy, RaceReadPolicy, RaceWritePolicy, type ReadPolicy, SequentialReadPolicy, SequentialWritePolicy, type WritePolicy } from '../../lib';
import { ChaosStore } from '../../lib/testing';
import { failOnUnhandledRejections } from '../support/promise-observation';

/*
 * The policies' property tests (policies.property.spec.ts) drive the policies with fake closures. These
 * drive the real composition: two ChaosStores whose operations succeed, fail or (L2 only) hang past the
 * time limit, with random latencies. The outcome must match DESIGN section 4 with a timed-out L2 counting
 * as a failed one, no call may wait much longer than the time limit, and an L2 write is kept for replay
 * exactly when it failed while its policy resolved.
 */

// Far above the stores' latencies (at most 5 ms), so that only a hanging L2 times out, even on a loaded
// machine whose timers fire late; a call must still settle soon after it.
const TIMEOUT_MS = 100;
const SLACK_MS = 150;
const KEY = 'k';

type Layer1Write = 'ok' | 'fail';
type Layer2Write = 'ok' | 'fail' | 'hang';
type Layer1Read = 'hit' | 'miss' | 'fail';
type Layer2Read = 'hit' | 'miss' | 'fail' | 'hang';
/** `either`: both layers hit and the race went to whichever answered first. */
type Verdict = { readonly settled: 'resolved'; readonly source?: CacheLayer | 'either' } | { readonly settled: 'rejected'; readonly error: CacheLayer | 'both' };

const resolved = (source?: CacheLayer | 'either'): Verdict => ({ settled: 'resolved', source });
const rejected = (error: CacheLayer | 'both'): Verdict => ({ settled: 'rejected', error });

const writePolicies = {
  sequential: () => new SequentialWritePolicy(),
  'optimistic-parallel': () => new OptimisticParallelWritePolicy(),
  race: () => new RaceWritePolicy(),
} satisfies Record<string, () => WritePolicy>;
const readPolicies = {
  sequential: () => new SequentialReadPolicy(),
  race: () => new RaceReadPolicy(),
  parallel: () => new ParallelReadPolicy(),
} satisfies Record<string, () => ReadPolicy>;

/** DESIGN section 4 for writes; an L2 that hangs past the time limit has failed. */
function expectedWrite(policy: keyof typeof writePolicies, l1: Layer1Write, l2: Layer2Write): Verdict {
  const l1ok = l1 === 'ok';
  const l2ok = l2 === 'ok';
  if (policy === 'sequential') return !l1ok ? rejected('l1') : l2ok ? resolved() : rejected('l2');
  return l1ok || l2ok ? resolved() : rejected('both');
}

/** DESIGN section 4 for reads; L1 always answers before a hanging L2 gives up, and ties of expiry go to L1. */
function expectedRead(policy: keyof typeof readPolicies, l1: Layer1Read, l2: Layer2Read): Verdict {
  const l2failed = l2 === 'fail' || l2 === 'hang';
  switch (policy) {
    case 'sequential':
      if (l1 === 'hit') return resolved('l1');
      return l2 === 'hit' ? resolved('l2') : l2failed ? rejected('l2') : resolved();
    case 'race':
    case 'parallel':
      if (l1 === 'hit' && l2 === 'hit') return resolved(policy === 'race' ? 'either' : 'l1');
      if (l1 === 'hit') return resolved('l1');
      if (l2 === 'hit') return resolved('l2');
      return l1 === 'fail' && l2failed ? rejected('both') : resolved();
  }
}

function chaosFor(outcome: string, latencyMs: number, store: MemoryStore): ChaosStore {
  return new ChaosStore(store, { latencyMs, failureRate: outcome === 'fail' ? 1 : 0, hang: outcome === 'hang' });
}

function newComposition(l1: ChaosStore, l2: ChaosStore, writePolicy?: WritePolicy, readPolicy?: ReadPolicy) {
  const offload = new OffloadService();
  const store = new LayeredStore({ l1, l2, offload, writePolicy, readPolicy, resilience: { timeoutMs: TIMEOUT_MS, breaker: false } });
  return { store, offload };
}

function checkVerdict(outcome: { ok: true; value: unknown } | { ok: false; error: unknown }, verdict: Verdict): void {
  if (verdict.settled === 'resolved') {
    expect(outcome.ok).toBe(true);
    const hit = outcome.ok ? (outcome.value as { source?: CacheLayer } | undefined) : undefined;
    if (verdict.source === 'either') expect(['l1', 'l2']).toContain(hit?.source);
    else expect(hit?.source).toBe(verdict.source);
    return;
  }
  expect(outcome.ok).toBe(false);
  const error = outcome.ok ? undefined : outcome.error;
  if (verdict.error === 'both') {
    expect(error).toBeInstanceOf(BothLayersFailedError);
  } else {
    expect(error).toBeInstanceOf(CacheLayerError);
    expect((error as CacheLayerError).layer).toBe(verdict.error);
  }
}

async function settle(run: unknown): Promise<{ outcome: { ok: true; value: unknown } | { ok: false; error: unknown }; ms: number }> {
  const started = performance.now();
  const outcome = await Promise.resolve(run).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return { outcome, ms: performance.now() - started };
}

const latency = fc.integer({ min: 0, max: 5 });
failOnUnhandledRejections(50);

describe.each(Object.keys(writePolicies) as (keyof typeof writePolicies)[])('%s write policy through the guarded composition', (policy) => {
  it('matches DESIGN section 4, stays within the time limit, and keeps exactly the tolerated L2 failures', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Layer1Write>('ok', 'fail'),
        fc.constantFrom<Layer2Write>('ok', 'fail', 'hang'),
        latency,
        latency,
        async (l1Outcome, l2Outcome, l1Latency, l2Latency) => {
          const l1Memory = new MemoryStore();
          const l2Memory = new MemoryStore();
          const l1 = chaosFor(l1Outcome, l1Latency, l1Memory);
          const l2 = chaosFor(l2Outcome, l2Latency, l2Memory);
          const { store, offload } = newComposition(l1, l2, writePolicies[policy]());
          try {
            const { outcome, ms } = await settle(store.write(KEY, createCacheEntry('v', 60_000), 60_000));
            const verdict = expectedWrite(policy, l1Outcome, l2Outcome);
            checkVerdict(outcome, verdict);
            expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);

            await offload.drain(); // a race loser finishes (or gives up at the time limit) in the background
            const l2Called = !(policy === 'sequential' && l1Outcome === 'fail');
            const kept = verdict.settled === 'resolved' && l2Called && l2Outcome === 'fail';
            // A write L2 has not answered is not sent again while it may land: it waits, unanswered, for its outcome.
            const waiting = l2Called && l2Outcome === 'hang';
            const stats = store.l2Resilience?.stats();
            expect(stats?.replay?.pending).toBe(kept ? 1 : 0);
            expect(stats?.unanswered).toBe(waiting ? 1 : 0);
            if (l2Called && l2Outcome === 'ok') expect((await l2Memory.get(KEY))?.value).toBe('v');
          } finally {
            l2.recover();
            await store.shutdown(0);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe.each(Object.keys(readPolicies) as (keyof typeof readPolicies)[])('%s read policy through the guarded composition', (policy) => {
  it('matches DESIGN section 4 with a timed-out L2 as a failed one, within the time limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Layer1Read>('hit', 'miss', 'fail'),
        fc.constantFrom<Layer2Read>('hit', 'miss', 'fail', 'hang'),
        latency,
        latency,
        async (l1Outcome, l2Outcome, l1Latency, l2Latency) => {
          const l1Memory = new MemoryStore();
          const l2Memory = new MemoryStore();
          // Equal expiries: when both hit, the parallel policy's tie goes to L1.
          const entry = createCacheEntry('v', 60_000);
          if (l1Outcome === 'hit') await l1Memory.set(KEY, entry, 60_000);
          if (l2Outcome === 'hit') await l2Memory.set(KEY, entry, 60_000);
          const l1 = chaosFor(l1Outcome, l1Latency, l1Memory);
          const l2 = chaosFor(l2Outcome, l2Latency, l2Memory);
          const { store } = newComposition(l1, l2, undefined, readPolicies[policy]());
          try {
            const { outcome, ms } = await settle(store.read(KEY));
            checkVerdict(outcome, expectedRead(policy, l1Outcome, l2Outcome));
            expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
            if (!outcome.ok && policy === 'sequential' && l2Outcome === 'hang') {
              expect((outcome.error as CacheLayerError).cause).toBeInstanceOf(CacheTimeoutError);
            }
          } finally {
            l2.recover();
            await store.shutdown(0);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('L2 circuit breaker in the composition', () => {
  it('opens after exactly `threshold` consecutive L2 failures, then keeps L2 out: reads are misses, nothing reaches it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }), async (threshold, l2Fails) => {
        const l2 = new ChaosStore(new MemoryStore());
        const store = new LayeredStore({
          l1: new MemoryStore(),
          l2,
          offload: new OffloadService(),
          resilience: { timeoutMs: TIMEOUT_MS, breaker: { failureThreshold: threshold, cooldownMs: 60_000 }, replay: false },
        });
        let consecutive = 0;
        let open = false;
        for (const fails of l2Fails) {
          l2.configure({ failureRate: fails ? 1 : 0 });
          const callsBefore = l2.stats().calls;
          const { outcome } = await settle(store.read(KEY));
          if (open) {
            expect(outcome).toEqual({ ok: true, value: undefined });
            expect(l2.stats().calls).toBe(callsBefore);
            continue;
          }
          expect(outcome.ok).toBe(!fails);
          consecutive = fails ? consecutive + 1 : 0;
          open = consecutive >= threshold;
          expect(store.l2Resilience?.breaker?.state).toBe(open ? 'open' : 'closed');
        }
      }),
      { numRuns: 100 },
    );
  });
});
