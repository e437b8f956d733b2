import { describe, expect, it, vi } from 'vitest';
import type { CacheEntry } from '../../lib/core/cache-entry';
import {
  ParallelReadPolicy,
  RaceLoser,
  RaceReadPolicy,
  SequentialReadPolicy,
  type LayerRead,
  type ReadPolicy,
} from '../../lib/policies';
import { deferred } from '../support/deferred';
import { FAILURE_ORDERS, expectBothFailuresKept, expectBothLayersFailed, rejectionOf, throwsAtOnce } from '../support/policy-assertions';
import { failOnUnhandledRejections, flush, observe } from '../support/promise-observation';
import { FakeOffload } from '../support/fake-offload';
import { itHandlesTheRaceLoser } from '../support/race-loser-cases';

type Read = CacheEntry<string> | undefined;

/** Two layer reads the test settles by hand; `calls` logs which closure was called, in order, with which key. */
function fakeLayers() {
  const calls: string[] = [];
  const l1 = deferred<Read>();
  const l2 = deferred<Read>();
  const readL1: LayerRead<string> = (key) => {
    calls.push(`l1:${key}`);
    return l1.promise;
  };
  const readL2: LayerRead<string> = (key) => {
    calls.push(`l2:${key}`);
    return l2.promise;
  };
  return { calls, l1, l2, readL1, readL2 };
}

const entry = (value: string, expiresAt: number | null = 10_000): CacheEntry<string> => ({
  value,
  createdAt: 0,
  expiresAt,
});

const abortSignal = (): AbortSignal => new AbortController().signal;

const unhandled = failOnUnhandledRejections();


describe('SequentialReadPolicy', () => {
  it('returns an L1 hit without calling L2 or the offload service', async () => {
    const layers = fakeLayers();
    const offload = new FakeOffload();
    const hit = entry('from l1');
    const pending = new SequentialReadPolicy().execute('k', layers.readL1, layers.readL2, offload);
    layers.l1.resolve(hit);

    const result = await pending;
    expect(result?.source).toBe('l1');
    expect(result?.entry).toBe(hit);
    expect(layers.calls).toEqual(['l1:k']);
    expect(offload.calls).toEqual([]);
  });

  it('calls L2 only after an L1 miss and returns its hit', async () => {
    const layers = fakeLayers();
    const hit = entry('from l2');
    const pending = new SequentialReadPolicy().execute('k', layers.readL1, layers.readL2, new FakeOffload());

    await flush();
    expect(layers.calls).toEqual(['l1:k']);
    layers.l1.resolve(undefined);
    await flush();
    expect(layers.calls).toEqual(['l1:k', 'l2:k']);
    layers.l2.resolve(hit);
    expect(await pending).toEqual({ entry: hit, source: 'l2' });
  });

  it('falls through to L2 when L1 fails and returns the L2 hit', async () => {
    const layers = fakeLayers();
    const hit = entry('from l2');
    const pending = new SequentialReadPolicy().execute('k', layers.readL1, layers.readL2, new FakeOffload());
    layers.l1.reject(new Error('l1 down'));
    await flush();
    layers.l2.resolve(hit);

    expect(await pending).toEqual({ entry: hit, source: 'l2' });
    expect(layers.calls).toEqual(['l1:k', 'l2:k']);
  });

  it('falls through to L2 when the L1 closure throws synchronously', async () => {
    const hit = entry('from l2');
    const readL2 = vi.fn<LayerRead<string>>(() => Promise.resolve(hit));
    const result = await new SequentialReadPolicy().execute('k', throwsAtOnce(new Error('sync')), readL2, new FakeOffload());

    expect(result).toEqual({ entry: hit, source: 'l2' });
    expect(readL2).toHaveBeenCalledWith('k');
  });

  it.each([
    ['misses', 'miss'],
    ['fails', 'error'],
  ] as const)('resolves to a miss when L1 %s and L2 misses', async (_name, l1Outcome) => {
    const layers = fakeLayers();
    const pending = new SequentialReadPolicy().execute('k', layers.readL1, layers.readL2, new FakeOffload());
    if (l1Outcome === 'miss') layers.l1.resolve(undefined);
    else layers.l1.reject(new Error('l1 down'));
    await flush();
    layers.l2.resolve(undefined);

    expect(await pending).toBeUndefined();
    expect(layers.calls).toEqual(['l1:k', 'l2:k']);
  });

  it.each([
    ['misses', 'miss'],
    ['fails', 'error'],
  ] as const)('rejects with the L2 error when L1 %s and L2 fails', async (_name, l1Outcome) => {
    const layers = fakeLayers();
    const l2Error = new Error('l2 down');
    const pending = new SequentialReadPolicy().execute('k', layers.readL1, layers.readL2, new FakeOffload());
    if (l1Outcome === 'miss') layers.l1.resolve(undefined);
    else layers.l1.reject(new Error('l1 down'));
    await flush();
    layers.l2.reject(l2Error);

    await expect(pending).rejects.toBe(l2Error);
  });
});

describe('RaceReadPolicy', () => {
  it('offloads the loser by default', () => {
    expect(new RaceReadPolicy().loser).toBe(RaceLoser.Offload);
  });

  it('starts both reads at once, L1 first', () => {
    const layers = fakeLayers();
    void new RaceReadPolicy().execute('k', layers.readL1, layers.readL2, new FakeOffload());

    expect(layers.calls).toEqual(['l1:k', 'l2:k']);
    layers.l1.resolve(undefined);
    layers.l2.resolve(undefined);
  });

  it('returns an L1 hit before L2 finishes and hands the L2 read to the offload service', async () => {
    const layers = fakeLayers();
    const offload = new FakeOffload();
    const hit = entry('from l1');
    const result = observe(new RaceReadPolicy().execute('k', layers.readL1, layers.readL2, offload));

    layers.l1.resolve(hit);
    await flush();
    expect(result.current).toEqual({ state: 'resolved', value: { entry: hit, source: 'l1' } });
    expect(offload.calls.map((c) => [c.kind, c.options])).toEqual([['race-loser', undefined]]);

    const task = offload.calls[0]!.task(abortSignal());
    const late = entry('late l2');
    layers.l2.resolve(late);
    await expect(task).resolves.toBe(late);
  });

  it('returns an L2 hit before L1 finishes and hands the L1 read to the offload service', async () => {
    const layers = fakeLayers();
    const offload = new FakeOffload();
    const hit = entry('from l2');
    const result = observe(new RaceReadPolicy().execute('k', layers.readL1, layers.readL2, offload));

    layers.l2.resolve(hit);
    await flush();
    expect(result.current).toEqual({ state: 'resolved', value: { entry: hit, source: 'l2' } });
    expect(offload.calls.map((c) => [c.kind, c.options])).toEqual([['race-loser', undefined]]);

    const l1Error = new Error('late l1 failure');
    const task = offload.calls[0]!.task(abortSignal());
    layers.l1.reject(l1Error);
    await expect(task).rejects.toBe(l1Error);
  });

  itHandlesTheRaceLoser({
    start: (loser, offload) => {
      const layers = fakeLayers();
      return {
        pending: new RaceReadPolicy(loser).execute('k', layers.readL1, layers.readL2, offload),
        succeed: (layer) => layers[layer].resolve(entry(`from ${layer}`)),
        fail: (layer, error) => layers[layer].reject(error),
      };
    },
    answerWhenWon: (layer) => ({ entry: entry(`from ${layer}`), source: layer }),
    unhandled,
  });

  it.each([
    ['L2', 'L1', 'misses', 'l1', 'miss'],
    ['L2', 'L1', 'fails', 'l1', 'error'],
    ['L1', 'L2', 'misses', 'l2', 'miss'],
    ['L1', 'L2', 'fails', 'l2', 'error'],
  ] as const)('waits for %s when %s %s first and returns its hit without offloading', async (_waited, _first, _how, first, outcome) => {
    const layers = fakeLayers();
    const offload = new FakeOffload();
    const other = first === 'l1' ? 'l2' : 'l1';
    const hit = entry(`from ${other}`);
    const result = observe(new RaceReadPolicy().execute('k', layers.readL1, layers.readL2, offload));

    if (outcome === 'miss') layers[first].resolve(undefined);
    else layers[first].reject(new Error(`${first} down`));
    await flush();
    expect(result.current.state).toBe('pending');
    layers[other].resolve(hit);
    await flush();
    expect(result.current).toEqual({ state: 'resolved', value: { entry: hit, source: other } });
    expect(offload.calls).toEqual([]);
  });

  it('resolves to a miss when both layers miss', async () => {
    const layers = fakeLayers();
    const offload = new FakeOffload();
    const pending = new RaceReadPolicy().execute('k', layers.readL1, layers.readL2, offload);
    layers.l2.resolve(undefined);
    await flush();
    layers.l1.resolve(undefined);

    expect(await pending).toBeUndefined();
    expect(offload.calls).toEqual([]);
  });

  it.each([
    ['L1 fails and L2 misses', 'l1'],
    ['L2 fails and L1 misses', 'l2'],
  ] as const)('resolves to a miss when %s, in either settle order', async (_name, failing) => {
    for (const failingFirst of [true, false]) {
      const layers = fakeLayers();
      const pending = new RaceReadPolicy().execute('k', layers.readL1, layers.readL2, new FakeOffload());
      const fail = failing === 'l1' ? layers.l1 : layers.l2;
      const miss = failing === 'l1' ? layers.l2 : layers.l1;
      if (failingFirst) {
        fail.reject(new Error('down'));
        await flush();
        miss.resolve(undefined);
      } else {
        miss.resolve(undefined);
        await flush();
        fail.reject(new Error('down'));
      }
      expect(await pending).toBeUndefined();
    }
  });

  it.each(FAILURE_ORDERS)('rejects with BothLayersFailedError keeping each error in its own slot when %s', async (_name, first) => {
    const layers = fakeLayers();
    const offload = new FakeOffload();
    await expectBothFailuresKept(layers, () => new RaceReadPolicy().execute('k', layers.readL1, layers.readL2, offload), first);
    expect(offload.calls).toEqual([]);
  });

  it('lets L1 win when both layers had already hit by the time the policy looked', async () => {
    const fromL1 = entry('from l1');
    const fromL2 = entry('from l2');
    const result = await new RaceReadPolicy().execute(
      'k',
      () => Promise.resolve(fromL1),
      () => Promise.resolve(fromL2),
      new FakeOffload(),
    );

    expect(result).toEqual({ entry: fromL1, source: 'l1' });
  });

  it('treats a synchronous throw of the L1 closure as an L1 failure and returns the L2 hit', async () => {
    const hit = entry('from l2');
    const readL2 = vi.fn<LayerRead<string>>(() => Promise.resolve(hit));
    const result = await new RaceReadPolicy().execute('k', throwsAtOnce(new Error('sync')), readL2, new FakeOffload());

    expect(result).toEqual({ entry: hit, source: 'l2' });
    expect(readL2).toHaveBeenCalledWith('k');
  });

  it('rejects with BothLayersFailedError when both closures throw synchronously', async () => {
    const l1Error = new Error('sync l1');
    const l2Error = new Error('sync l2');
    const pending = new RaceReadPolicy().execute('k', throwsAtOnce(l1Error), throwsAtOnce(l2Error), new FakeOffload());

    expectBothLayersFailed(await rejectionOf(pending), l1Error, l2Error);
  });
});

describe('ParallelReadPolicy', () => {
  /** Runs the policy with both layers already settled as given. */
  function readBoth(l1: Read | Error, l2: Read | Error, policy: ReadPolicy = new ParallelReadPolicy()) {
    const settle = (outcome: Read | Error) =>
      outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome);
    return policy.execute(
      'k',
      () => settle(l1),
      () => settle(l2),
      new FakeOffload(),
    );
  }

  it('starts both reads at once and waits for L2 even after an L1 hit', async () => {
    const layers = fakeLayers();
    const offload = new FakeOffload();
    const hit = entry('from l1');
    const result = observe(new ParallelReadPolicy().execute('k', layers.readL1, layers.readL2, offload));

    expect(layers.calls).toEqual(['l1:k', 'l2:k']);
    layers.l1.resolve(hit);
    await flush();
    expect(result.current.state).toBe('pending');
    layers.l2.resolve(undefined);
    await flush();
    expect(result.current).toEqual({ state: 'resolved', value: { entry: hit, source: 'l1' } });
    expect(offload.calls).toEqual([]);
  });

  it('keeps the L2 entry when both hit and L2 expires later', async () => {
    const fromL2 = entry('l2', 2_000);
    expect(await readBoth(entry('l1', 1_000), fromL2)).toEqual({ entry: fromL2, source: 'l2' });
  });

  it('keeps the L1 entry when both hit and L1 expires later', async () => {
    const fromL1 = entry('l1', 2_000);
    expect(await readBoth(fromL1, entry('l2', 1_000))).toEqual({ entry: fromL1, source: 'l1' });
  });

  it('keeps the L1 entry when both hit with the same expiry', async () => {
    const fromL1 = entry('l1', 1_000);
    expect(await readBoth(fromL1, entry('l2', 1_000))).toEqual({ entry: fromL1, source: 'l1' });
  });

  it('treats an L2 entry without expiry as the latest', async () => {
    const fromL2 = entry('l2', null);
    expect(await readBoth(entry('l1', Number.MAX_SAFE_INTEGER), fromL2)).toEqual({ entry: fromL2, source: 'l2' });
  });

  it('treats an L1 entry without expiry as the latest', async () => {
    const fromL1 = entry('l1', null);
    expect(await readBoth(fromL1, entry('l2', Number.MAX_SAFE_INTEGER))).toEqual({ entry: fromL1, source: 'l1' });
  });

  it('keeps the L1 entry when neither entry expires', async () => {
    const fromL1 = entry('l1', null);
    expect(await readBoth(fromL1, entry('l2', null))).toEqual({ entry: fromL1, source: 'l1' });
  });

  it.each([
    ['misses', undefined],
    ['fails', new Error('l2 down')],
  ] as const)('returns the L1 hit when L2 %s', async (_name, l2) => {
    const fromL1 = entry('l1');
    expect(await readBoth(fromL1, l2)).toEqual({ entry: fromL1, source: 'l1' });
  });

  it.each([
    ['misses', undefined],
    ['fails', new Error('l1 down')],
  ] as const)('returns the L2 hit when L1 %s', async (_name, l1) => {
    const fromL2 = entry('l2');
    expect(await readBoth(l1, fromL2)).toEqual({ entry: fromL2, source: 'l2' });
  });

  it('resolves to a miss when both layers miss', async () => {
    expect(await readBoth(undefined, undefined)).toBeUndefined();
  });

  it('resolves to a miss when one layer fails and the other misses', async () => {
    expect(await readBoth(new Error('l1 down'), undefined)).toBeUndefined();
    expect(await readBoth(undefined, new Error('l2 down'))).toBeUndefined();
  });

  it('rejects with BothLayersFailedError keeping each error in its own slot when both fail', async () => {
    const l1Error = new Error('l1 down');
    const l2Error = new Error('l2 down');
    expectBothLayersFailed(await rejectionOf(readBoth(l1Error, l2Error)), l1Error, l2Error);
  });

  it('still reads L2 when the L1 closure throws synchronously', async () => {
    const hit = entry('from l2');
    const result = await new ParallelReadPolicy().execute('k', throwsAtOnce(new Error('sync')), () => Promise.resolve(hit), new FakeOffload());

    expect(result).toEqual({ entry: hit, source: 'l2' });
  });
});
