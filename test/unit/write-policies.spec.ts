import { describe, expect, it, vi } from 'vitest';
import {
  OptimisticParallelWritePolicy,
  RaceLoser,
  RaceWritePolicy,
  SequentialWritePolicy,
  type LayerWrite,
} from '../../lib/policies';
import { deferred } from '../support/deferred';
import { FAILURE_ORDERS, expectBothFailuresKept, expectBothLayersFailed, rejectionOf, throwsAtOnce } from '../support/policy-assertions';
import { failOnUnhandledRejections, flush, observe } from '../support/promise-observation';
import { FakeOffload } from '../support/fake-offload';
import { itHandlesTheRaceLoser } from '../support/race-loser-cases';

/** Two layer writes the test settles by hand; `calls` logs which closure was called, in order, with which key. */
function fakeLayers() {
  const calls: string[] = [];
  const l1 = deferred<void>();
  const l2 = deferred<void>();
  // A write the policy never started may still be settled by a test; only what the policy derives from a
  // started write must be observed by the policy, so the sources themselves are marked observed.
  l1.promise.catch(() => undefined);
  l2.promise.catch(() => undefined);
  const writeL1: LayerWrite = (key) => {
    calls.push(`l1:${key}`);
    return l1.promise;
  };
  const writeL2: LayerWrite = (key) => {
    calls.push(`l2:${key}`);
    return l2.promise;
  };
  return { calls, l1, l2, writeL1, writeL2 };
}

const abortSignal = (): AbortSignal => new AbortController().signal;

const unhandled = failOnUnhandledRejections();


describe('SequentialWritePolicy', () => {
  it('writes L1 first, calls L2 only after L1 succeeded, and resolves once both are written', async () => {
    const layers = fakeLayers();
    const offload = new FakeOffload();
    const result = observe(new SequentialWritePolicy().execute('k', layers.writeL1, layers.writeL2, offload));

    await flush();
    expect(layers.calls).toEqual(['l1:k']);
    layers.l1.resolve();
    await flush();
    expect(layers.calls).toEqual(['l1:k', 'l2:k']);
    expect(result.current.state).toBe('pending');
    layers.l2.resolve();
    await flush();
    expect(result.current).toEqual({ state: 'resolved', value: undefined });
    expect(offload.calls).toEqual([]);
  });

  it('rejects with the L1 error and never calls L2 when L1 fails', async () => {
    const layers = fakeLayers();
    const l1Error = new Error('l1 down');
    const pending = new SequentialWritePolicy().execute('k', layers.writeL1, layers.writeL2, new FakeOffload());
    layers.l1.reject(l1Error);

    await expect(pending).rejects.toBe(l1Error);
    await flush();
    expect(layers.calls).toEqual(['l1:k']);
  });

  it('rejects with the L2 error and leaves the L1 write in place when L2 fails', async () => {
    const layers = fakeLayers();
    const l2Error = new Error('l2 down');
    const pending = new SequentialWritePolicy().execute('k', layers.writeL1, layers.writeL2, new FakeOffload());
    layers.l1.resolve();
    await flush();
    layers.l2.reject(l2Error);

    await expect(pending).rejects.toBe(l2Error);
    expect(layers.calls).toEqual(['l1:k', 'l2:k']);
  });

  it('treats a synchronous throw of the L1 closure as an L1 failure and does not call L2', async () => {
    const l1Error = new Error('sync');
    const writeL2 = vi.fn<LayerWrite>(() => Promise.resolve());
    const pending = new SequentialWritePolicy().execute('k', throwsAtOnce(l1Error), writeL2, new FakeOffload());

    await expect(pending).rejects.toBe(l1Error);
    expect(writeL2).not.toHaveBeenCalled();
  });
});

describe('OptimisticParallelWritePolicy', () => {
  it('starts both writes at once, L1 first', () => {
    const layers = fakeLayers();
    void new OptimisticParallelWritePolicy().execute('k', layers.writeL1, layers.writeL2, new FakeOffload());

    expect(layers.calls).toEqual(['l1:k', 'l2:k']);
    layers.l1.resolve();
    layers.l2.resolve();
  });

  it('waits for L2 to settle even after L1 succeeded, then resolves', async () => {
    const layers = fakeLayers();
    const offload = new FakeOffload();
    const result = observe(new OptimisticParallelWritePolicy().execute('k', layers.writeL1, layers.writeL2, offload));

    layers.l1.resolve();
    await flush();
    expect(result.current.state).toBe('pending');
    layers.l2.resolve();
    await flush();
    expect(result.current).toEqual({ state: 'resolved', value: undefined });
    expect(offload.calls).toEqual([]);
  });

  it.each(FAILURE_ORDERS)('rejects with BothLayersFailedError keeping each error in its own slot when %s', async (_name, first) => {
    const layers = fakeLayers();
    await expectBothFailuresKept(layers, () => new OptimisticParallelWritePolicy().execute('k', layers.writeL1, layers.writeL2, new FakeOffload()), first);
  });

  it('still writes L2 and resolves when the L1 closure throws synchronously', async () => {
    const writeL2 = vi.fn<LayerWrite>(() => Promise.resolve());
    await new OptimisticParallelWritePolicy().execute('k', throwsAtOnce(new Error('sync')), writeL2, new FakeOffload());

    expect(writeL2).toHaveBeenCalledWith('k');
  });
});

describe.each([
  ['OptimisticParallelWritePolicy', () => new OptimisticParallelWritePolicy()],
  ['RaceWritePolicy', () => new RaceWritePolicy()],
] as const)('%s with one failing layer', (_name, createPolicy) => {
  it.each([
    ['l1', 'l2'],
    ['l2', 'l1'],
  ] as const)('waits for the other layer when %s fails first, resolves once %s succeeds, and offloads nothing', async (failing, succeeding) => {
    const layers = fakeLayers();
    const offload = new FakeOffload();
    const result = observe(createPolicy().execute('k', layers.writeL1, layers.writeL2, offload));

    layers[failing].reject(new Error(`${failing} down`));
    await flush();
    expect(result.current.state).toBe('pending');
    layers[succeeding].resolve();
    await flush();
    expect(result.current).toEqual({ state: 'resolved', value: undefined });
    expect(offload.calls).toEqual([]);
  });
});

describe('RaceWritePolicy', () => {
  it('offloads the loser by default', () => {
    expect(new RaceWritePolicy().loser).toBe(RaceLoser.Offload);
  });

  it('starts both layers at once, in the caller\'s turn', () => {
    const layers = fakeLayers();
    observe(new RaceWritePolicy().execute('k', layers.writeL1, layers.writeL2, new FakeOffload()));
    expect(layers.calls).toEqual(['l1:k', 'l2:k']);
  });

  it('with RaceLoser.Drop leaves the losing write running unobserved, not as a background task', async () => {
    const layers = fakeLayers();
    const offload = new FakeOffload();
    const result = observe(new RaceWritePolicy(RaceLoser.Drop).execute('k', layers.writeL1, layers.writeL2, offload));
    layers.l1.resolve();
    await flush();
    expect(result.current).toEqual({ state: 'resolved', value: undefined });
    expect(layers.calls).toEqual(['l1:k', 'l2:k']);
    expect(offload.calls).toEqual([]);
    layers.l2.reject(new Error('late l2 failure'));
    await flush();
    expect(unhandled).not.toHaveBeenCalled();
  });

  it('returns before L2 finishes and hands the L2 write to the offload service', async () => {
    const layers = fakeLayers();
    const offload = new FakeOffload();
    const result = observe(new RaceWritePolicy().execute('k', layers.writeL1, layers.writeL2, offload));

    layers.l1.resolve();
    await flush();
    expect(result.current).toEqual({ state: 'resolved', value: undefined });
    expect(offload.calls).toHaveLength(1);
    expect(offload.calls[0]?.kind).toBe('race-loser');
    expect(offload.calls[0]?.options).toBeUndefined();

    const task = observe(offload.calls[0]!.task(abortSignal()));
    await flush();
    expect(task.current.state).toBe('pending');
    layers.l2.resolve();
    await flush();
    expect(task.current).toEqual({ state: 'resolved', value: undefined });
  });

  it('returns before L1 finishes when L2 wins, and hands the L1 write to the offload service', async () => {
    const layers = fakeLayers();
    const offload = new FakeOffload();
    const result = observe(new RaceWritePolicy().execute('k', layers.writeL1, layers.writeL2, offload));

    layers.l2.resolve();
    await flush();
    expect(result.current).toEqual({ state: 'resolved', value: undefined });
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
        pending: new RaceWritePolicy(loser).execute('k', layers.writeL1, layers.writeL2, offload),
        succeed: (layer) => layers[layer].resolve(),
        fail: (layer, error) => layers[layer].reject(error),
      };
    },
    answerWhenWon: () => undefined,
    unhandled,
  });

  it.each(FAILURE_ORDERS)('rejects with BothLayersFailedError keeping each error in its own slot when %s', async (_name, first) => {
    const layers = fakeLayers();
    const offload = new FakeOffload();
    await expectBothFailuresKept(layers, () => new RaceWritePolicy().execute('k', layers.writeL1, layers.writeL2, offload), first);
    expect(offload.calls).toEqual([]);
  });

  it('treats a synchronous throw of the L1 closure as an L1 failure and waits for L2', async () => {
    const l2 = deferred<void>();
    const writeL2 = vi.fn<LayerWrite>(() => l2.promise);
    const result = observe(new RaceWritePolicy().execute('k', throwsAtOnce(new Error('sync')), writeL2, new FakeOffload()));

    await flush();
    expect(writeL2).toHaveBeenCalledWith('k');
    expect(result.current.state).toBe('pending');
    l2.resolve();
    await flush();
    expect(result.current).toEqual({ state: 'resolved', value: undefined });
  });

  it('rejects with BothLayersFailedError when both closures throw synchronously', async () => {
    const l1Error = new Error('sync l1');
    const l2Error = new Error('sync l2');
    const pending = new RaceWritePolicy().execute('k', throwsAtOnce(l1Error), throwsAtOnce(l2Error), new FakeOffload());

    expectBothLayersFailed(await rejectionOf(pending), l1Error, l2Error);
  });
});
