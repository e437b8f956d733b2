import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CacheEntry } from '../../lib/core/cache-entry';
import { BothLayersFailedError, type CacheLayer } from '../../lib/core/errors';
import type { Offload, OffloadRunOptions, OffloadTask, OffloadTaskKind } from '../../lib/core/offload.interface';
import {
  OptimisticParallelWritePolicy,
  ParallelReadPolicy,
  RaceLoser,
  RaceReadPolicy,
  RaceWritePolicy,
  SequentialReadPolicy,
  SequentialWritePolicy,
  type ReadHit,
  type ReadPolicy,
  type WritePolicy,
} from '../../lib/policies';
import { failOnUnhandledRejections } from '../support/promise-observation';

/*
 * Each policy runs against two fake layers whose outcomes and settle order are random. A reference model,
 * written straight from DESIGN section 4, predicts from the same outcomes and the observed settle order:
 * what the policy resolves or rejects with, which closures it calls, which layer (if any) is still
 * pending when it answers, and what it hands to the offload service.
 */

const KEY = 'user:1';

type ReadOutcome =
  | { readonly kind: 'hit'; readonly expiresAt: number | null }
  | { readonly kind: 'miss' }
  | { readonly kind: 'error'; readonly sync: boolean };
type WriteOutcome = { readonly kind: 'ok' } | { readonly kind: 'fail'; readonly sync: boolean };
type Outcomes<O> = Readonly<Record<CacheLayer, O>>;

/** What the caller sees: a resolution with the hit's layer (`undefined`: miss or write), or a rejection. */
type Verdict =
  | { readonly settled: 'resolved'; readonly source: CacheLayer | undefined }
  | { readonly settled: 'rejected'; readonly error: CacheLayer | 'both' };

interface Expectation {
  readonly verdict: Verdict;
  readonly called: readonly CacheLayer[];
  /** The layer whose operation the policy answered without; it must be offloaded (or dropped). */
  readonly loser: CacheLayer | undefined;
}

const other = (layer: CacheLayer): CacheLayer => (layer === 'l1' ? 'l2' : 'l1');

// ---- Reference model (DESIGN section 4) ----

function expectedWrite(policy: WritePolicyName, o: Outcomes<WriteOutcome>, first: CacheLayer): Expectation {
  const ok = (layer: CacheLayer) => o[layer].kind === 'ok';
  const atLeastOne: Verdict = ok('l1') || ok('l2') ? resolved(undefined) : rejected('both');
  switch (policy) {
    case 'sequential':
      if (!ok('l1')) return { verdict: rejected('l1'), called: ['l1'], loser: undefined };
      return { verdict: ok('l2') ? resolved(undefined) : rejected('l2'), called: ['l1', 'l2'], loser: undefined };
    case 'optimistic-parallel':
      return { verdict: atLeastOne, called: ['l1', 'l2'], loser: undefined };
    case 'race':
      return { verdict: atLeastOne, called: ['l1', 'l2'], loser: ok(first) ? other(first) : undefined };
  }
}

function expectedRead(policy: ReadPolicyName, o: Outcomes<ReadOutcome>, first: CacheLayer): Expectation {
  const hit = (layer: CacheLayer) => o[layer].kind === 'hit';
  const noHit: Verdict =
    o.l1.kind === 'error' && o.l2.kind === 'error' ? rejected('both') : resolved(undefined);
  switch (policy) {
    case 'sequential': {
      if (hit('l1')) return { verdict: resolved('l1'), called: ['l1'], loser: undefined };
      const l2 = o.l2.kind === 'hit' ? resolved('l2') : o.l2.kind === 'miss' ? resolved(undefined) : rejected('l2');
      return { verdict: l2, called: ['l1', 'l2'], loser: undefined };
    }
    case 'race': {
      if (hit(first)) return { verdict: resolved(first), called: ['l1', 'l2'], loser: other(first) };
      return { verdict: hit(other(first)) ? resolved(other(first)) : noHit, called: ['l1', 'l2'], loser: undefined };
    }
    case 'parallel': {
      let verdict = noHit;
      if (hit('l1') && hit('l2')) verdict = resolved(laterOrL1(o.l1, o.l2));
      else if (hit('l1')) verdict = resolved('l1');
      else if (hit('l2')) verdict = resolved('l2');
      return { verdict, called: ['l1', 'l2'], loser: undefined };
    }
  }
}

/** The layer whose entry expires later; `null` is never, the latest; ties go to L1. */
function laterOrL1(l1: ReadOutcome, l2: ReadOutcome): CacheLayer {
  const rank = (o: ReadOutcome) => (o.kind === 'hit' ? (o.expiresAt ?? Number.POSITIVE_INFINITY) : -1);
  return rank(l2) > rank(l1) ? 'l2' : 'l1';
}

const resolved = (source: CacheLayer | undefined): Verdict => ({ settled: 'resolved', source });
const rejected = (error: CacheLayer | 'both'): Verdict => ({ settled: 'rejected', error });

// ---- Policies under test ----

type WritePolicyName = 'sequential' | 'optimistic-parallel' | 'race';
type ReadPolicyName = 'sequential' | 'race' | 'parallel';

function writePolicy(name: WritePolicyName, loser: RaceLoser): WritePolicy {
  if (name === 'sequential') return new SequentialWritePolicy();
  if (name === 'optimistic-parallel') return new OptimisticParallelWritePolicy();
  return new RaceWritePolicy(loser);
}

function readPolicy(name: ReadPolicyName, loser: RaceLoser): ReadPolicy {
  if (name === 'sequential') return new SequentialReadPolicy();
  if (name === 'parallel') return new ParallelReadPolicy();
  return new RaceReadPolicy(loser);
}

// ---- Harness ----

/** Delays a layer's answer: through fast-check's scheduler (random order) or a real 0-5 ms timer. */
type Latency = (layer: CacheLayer) => Promise<void>;

class RecordingOffload implements Offload {
  readonly calls: { kind: OffloadTaskKind; task: OffloadTask; options: OffloadRunOptions | undefined }[] = [];
  constructor(private readonly accept: boolean) {}
  run(kind: OffloadTaskKind, task: OffloadTask, options?: OffloadRunOptions): boolean {
    this.calls.push({ kind, task, options });
    return this.accept;
  }
}

/** The fake layers of one run and everything they observed. */
class Layers {
  readonly called: CacheLayer[] = [];
  readonly keys: string[] = [];
  readonly settled: CacheLayer[] = [];
  /** How each called layer settled, to compare with what an offloaded loser task yields. */
  readonly answers: Partial<Record<CacheLayer, { readonly ok: boolean; readonly value: unknown }>> = {};
  readonly running: Promise<unknown>[] = [];
  readonly errors: Record<CacheLayer, Error> = { l1: new Error('l1 failed'), l2: new Error('l2 failed') };
  readonly entries: Record<CacheLayer, CacheEntry<string>>;

  constructor(
    private readonly latency: Latency,
    expiries: Record<CacheLayer, number | null>,
  ) {
    this.entries = {
      l1: { value: 'from l1', createdAt: 0, expiresAt: expiries.l1 },
      l2: { value: 'from l2', createdAt: 0, expiresAt: expiries.l2 },
    };
  }

  read(layer: CacheLayer, outcome: ReadOutcome): (key: string) => Promise<CacheEntry<string> | undefined> {
    return (key) => {
      this.keys.push(key);
      return this.start(layer, outcome.kind === 'error' && outcome.sync, () => {
        if (outcome.kind === 'error') throw this.errors[layer];
        return outcome.kind === 'hit' ? this.entries[layer] : undefined;
      });
    };
  }

  write(layer: CacheLayer, outcome: WriteOutcome): (key: string) => Promise<void> {
    return (key) => {
      this.keys.push(key);
      return this.start(layer, outcome.kind === 'fail' && outcome.sync, () => {
        if (outcome.kind === 'fail') throw this.errors[layer];
      });
    };
  }

  /** Layers called but not yet settled. */
  pending(): CacheLayer[] {
    return this.called.filter((layer) => !this.settled.includes(layer));
  }

  private start<R>(layer: CacheLayer, throwSync: boolean, answer: () => R): Promise<R> {
    this.called.push(layer);
    if (throwSync) {
      this.settled.push(layer);
      this.answers[layer] = { ok: false, value: this.errors[layer] };
      throw this.errors[layer];
    }
    const running = this.latency(layer).then(() => {
      this.settled.push(layer);
      try {
        const value = answer();
        this.answers[layer] = { ok: true, value };
        return value;
      } catch (error) {
        this.answers[layer] = { ok: false, value: error };
        throw error;
      }
    });
    this.running.push(running.catch(() => undefined));
    return running;
  }
}

interface Run {
  readonly outcome: { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };
  readonly pendingWhenAnswered: readonly CacheLayer[];
  readonly calledWhenAnswered: readonly CacheLayer[];
}

/** Starts the policy and records its outcome together with the layers still pending at that moment. */
function observe(execution: unknown, layers: Layers): Promise<Run> {
  return Promise.resolve(execution).then(
    (value) => ({ outcome: { ok: true, value }, pendingWhenAnswered: layers.pending(), calledWhenAnswered: [...layers.called] }),
    (error: unknown) => ({ outcome: { ok: false, error }, pendingWhenAnswered: layers.pending(), calledWhenAnswered: [...layers.called] }),
  );
}

async function checkAgainstModel(
  run: Run,
  layers: Layers,
  expected: Expectation,
  offload: RecordingOffload,
  loserMode: RaceLoser,
): Promise<void> {
  const { verdict } = expected;
  if (verdict.settled === 'resolved') {
    expect(run.outcome.ok).toBe(true);
    const value = run.outcome.ok ? run.outcome.value : undefined;
    if (verdict.source === undefined) {
      expect(value).toBeUndefined();
    } else {
      const hit = value as ReadHit<string>;
      expect(hit.source).toBe(verdict.source);
      expect(hit.entry).toBe(layers.entries[verdict.source]);
    }
  } else {
    expect(run.outcome.ok).toBe(false);
    const error = run.outcome.ok ? undefined : run.outcome.error;
    if (verdict.error === 'both') {
      expect(error).toBeInstanceOf(BothLayersFailedError);
      expect((error as BothLayersFailedError).l1Error).toBe(layers.errors.l1);
      expect((error as BothLayersFailedError).l2Error).toBe(layers.errors.l2);
    } else {
      expect(error).toBe(layers.errors[verdict.error]);
    }
  }

  expect(layers.called).toEqual(expected.called);
  expect(layers.keys).toEqual(expected.called.map(() => KEY));
  expect(run.pendingWhenAnswered).toEqual(expected.loser === undefined ? [] : [expected.loser]);

  if (expected.loser === undefined || loserMode === RaceLoser.Drop) {
    expect(offload.calls).toEqual([]);
    return;
  }
  expect(offload.calls.map((c) => [c.kind, c.options])).toEqual([['race-loser', undefined]]);
  // The offloaded task is the loser's own operation: it settles the way that layer did.
  const loserResult = await offload.calls[0]!.task(new AbortController().signal).then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, value: error }),
  );
  const answer = layers.answers[expected.loser];
  expect(answer).toBeDefined();
  expect(loserResult.ok).toBe(answer?.ok);
  expect(loserResult.value).toBe(answer?.value);
}

/**
 * The race write when L1 succeeded before L2 was started (L1 gets the first turn): the caller has its
 * answer, and the L2 write, not started yet, is the loser. The offload service gets it as a task that
 * starts it; with `Drop`, or when the service refuses it, it starts on its own, unobserved.
 */
async function checkUnstartedRaceLoser(
  run: Run,
  layers: Layers,
  o: Outcomes<WriteOutcome>,
  offload: RecordingOffload,
  loserMode: RaceLoser,
  accept: boolean,
  letLayersAnswer: () => Promise<unknown> = () => Promise.resolve(),
): Promise<void> {
  expect(run.outcome).toEqual({ ok: true, value: undefined });
  expect(run.calledWhenAnswered).toEqual(['l1']);
  expect(run.pendingWhenAnswered).toEqual([]);
  if (loserMode === RaceLoser.Drop) {
    expect(offload.calls).toEqual([]);
    expect(layers.called).toEqual(['l1', 'l2']);
    return;
  }
  expect(offload.calls.map((c) => [c.kind, c.options])).toEqual([['race-loser', undefined]]);
  expect(layers.called).toEqual(accept ? ['l1'] : ['l1', 'l2']);
  if (!accept) return;
  const loser = Promise.resolve(offload.calls[0]!.task(new AbortController().signal)).then(
    () => true,
    (error: unknown) => error,
  );
  await letLayersAnswer();
  const loserResult = await loser;
  expect(layers.called).toEqual(['l1', 'l2']);
  expect(loserResult).toBe(o.l2.kind === 'ok' ? true : layers.errors.l2);
}

/** Lets a loser that starts on the next turn of the event loop start, then waits for every layer call. */
async function settleLayers(layers: Layers): Promise<void> {
  await Promise.all(layers.running);
  await new Promise((resolve) => setImmediate(resolve));
  await Promise.all(layers.running);
}

// ---- Arbitraries ----

const readOutcome: fc.Arbitrary<ReadOutcome> = fc.oneof(
  fc.record({ kind: fc.constant('hit' as const), expiresAt: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }) }),
  fc.constant({ kind: 'miss' as const }),
  fc.record({ kind: fc.constant('error' as const), sync: fc.boolean() }),
);
const writeOutcome: fc.Arbitrary<WriteOutcome> = fc.oneof(
  fc.constant({ kind: 'ok' as const }),
  fc.record({ kind: fc.constant('fail' as const), sync: fc.boolean() }),
);
const readOutcomes = fc.record({ l1: readOutcome, l2: readOutcome });
const writeOutcomes = fc.record({ l1: writeOutcome, l2: writeOutcome });
const loserMode = fc.constantFrom<RaceLoser>(RaceLoser.Offload, RaceLoser.Drop);
const delays = fc.record({ l1: fc.integer({ min: 0, max: 5 }), l2: fc.integer({ min: 0, max: 5 }) });

const expiriesOf = (o: Outcomes<ReadOutcome>): Record<CacheLayer, number | null> => ({
  l1: o.l1.kind === 'hit' ? o.l1.expiresAt : null,
  l2: o.l2.kind === 'hit' ? o.l2.expiresAt : null,
});

/** The layer whose answer the policy saw first (only the race models ask, and there both were called). */
const firstSettled = (layers: Layers): CacheLayer => layers.settled[0] ?? 'l1';

const timer = (delaysMs: Record<CacheLayer, number>): Latency => (l) =>
  new Promise((resolve) => setTimeout(resolve, delaysMs[l]));

failOnUnhandledRejections(10);

// ---- Properties ----

describe.each(['sequential', 'optimistic-parallel', 'race'] as const)('%s write policy', (name) => {
  it('matches the DESIGN model for any layer outcomes and settle order (scheduler)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), writeOutcomes, loserMode, fc.boolean(), async (s, o, mode, accept) => {
        const layers = new Layers((l) => s.schedule(Promise.resolve(), l), { l1: null, l2: null });
        const offload = new RecordingOffload(accept);
        const execution = writePolicy(name, mode).execute(KEY, layers.write('l1', o.l1), layers.write('l2', o.l2), offload);
        const run = await s.waitFor(observe(execution, layers));
        await s.waitAll();
        // A loser that starts on the next turn of the event loop asks the scheduler too.
        await new Promise((resolve) => setImmediate(resolve));
        await s.waitAll();
        await Promise.all(layers.running);

        if (name === 'race' && !run.calledWhenAnswered.includes('l2')) await checkUnstartedRaceLoser(run, layers, o, offload, mode, accept, () => s.waitAll());
        else await checkAgainstModel(run, layers, expectedWrite(name, o, firstSettled(layers)), offload, mode);
      }),
    );
  });

  it('matches the DESIGN model for any layer outcomes and real 0-5 ms latencies', async () => {
    await fc.assert(
      fc.asyncProperty(writeOutcomes, delays, loserMode, fc.boolean(), async (o, delaysMs, mode, accept) => {
        const layers = new Layers(timer(delaysMs), { l1: null, l2: null });
        const offload = new RecordingOffload(accept);
        const execution = writePolicy(name, mode).execute(KEY, layers.write('l1', o.l1), layers.write('l2', o.l2), offload);
        const run = await observe(execution, layers);
        await settleLayers(layers);
        await new Promise((resolve) => setTimeout(resolve, 6));
        await settleLayers(layers);

        if (name === 'race' && !run.calledWhenAnswered.includes('l2')) await checkUnstartedRaceLoser(run, layers, o, offload, mode, accept);
        else await checkAgainstModel(run, layers, expectedWrite(name, o, firstSettled(layers)), offload, mode);
      }),
      { numRuns: 40 },
    );
  });
});

describe.each(['sequential', 'race', 'parallel'] as const)('%s read policy', (name) => {
  it('matches the DESIGN model for any layer outcomes and settle order (scheduler)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), readOutcomes, loserMode, fc.boolean(), async (s, o, mode, accept) => {
        const layers = new Layers((l) => s.schedule(Promise.resolve(), l), expiriesOf(o));
        const offload = new RecordingOffload(accept);
        const execution = readPolicy(name, mode).execute(KEY, layers.read('l1', o.l1), layers.read('l2', o.l2), offload);
        const run = await s.waitFor(observe(execution, layers));
        await s.waitAll();
        await Promise.all(layers.running);

        await checkAgainstModel(run, layers, expectedRead(name, o, firstSettled(layers)), offload, mode);
      }),
    );
  });

  it('matches the DESIGN model for any layer outcomes and real 0-5 ms latencies', async () => {
    await fc.assert(
      fc.asyncProperty(readOutcomes, delays, loserMode, fc.boolean(), async (o, delaysMs, mode, accept) => {
        const layers = new Layers(timer(delaysMs), expiriesOf(o));
        const offload = new RecordingOffload(accept);
        const execution = readPolicy(name, mode).execute(KEY, layers.read('l1', o.l1), layers.read('l2', o.l2), offload);
        const run = await observe(execution, layers);
        await Promise.all(layers.running);

        await checkAgainstModel(run, layers, expectedRead(name, o, firstSettled(layers)), offload, mode);
      }),
      { numRuns: 40 },
    );
  });
});
