import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CacheTimeoutError, LayeredCacheError } from '../../lib/core/errors';
import { OffloadService, type OffloadEvent, type OffloadHooks } from '../../lib/offload/offload.service';
import { deferred } from '../support/deferred';

/** Lets every queued microtask and promise callback run (real timers only). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function recordingHooks(): Required<OffloadHooks> & {
  events: OffloadEvent[];
  warnings: string[];
  errors: string[];
} {
  const events: OffloadEvent[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  return {
    events,
    warnings,
    errors,
    onEvent: (event) => events.push(event),
    logger: { warn: (message) => warnings.push(message), error: (message) => errors.push(message) },
  };
}

const never = (): Promise<never> => new Promise<never>(() => undefined);

let unhandled: unknown[];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});

afterEach(async () => {
  vi.useRealTimers();
  // Give Node a full turn so that any rejection left unhandled is reported before we look.
  await settle();
  await settle();
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

describe('OffloadService', () => {
  describe('run', () => {
    it('returns before the task starts and starts it on the next turn of the event loop', async () => {
      const offload = new OffloadService();
      let started = false;

      const accepted = offload.run('refill', async () => {
        started = true;
      });

      expect(accepted).toBe(true);
      expect(started).toBe(false);
      expect(offload.counts()).toMatchObject({ queued: 1, running: 0 });
      await settle();
      expect(started).toBe(true);
      expect(offload.counts()).toMatchObject({ queued: 0, running: 0, completed: 1 });
    });

    it('passes each task an AbortSignal that is not aborted while the task is within its timeout', async () => {
      const offload = new OffloadService();
      let seen: AbortSignal | undefined;

      offload.run('write', async (signal) => {
        seen = signal;
      });
      await settle();

      expect(seen).toBeInstanceOf(AbortSignal);
      expect(seen?.aborted).toBe(false);
    });

    it('treats a task that returns a non-promise as completed', async () => {
      const offload = new OffloadService();

      offload.run('write', (() => undefined) as unknown as () => Promise<void>);
      await settle();

      expect(offload.counts()).toMatchObject({ completed: 1, failed: 0, running: 0 });
    });
  });

  describe('deduplication by key', () => {
    it('joins a task whose key is already running and runs a new one once the first has settled', async () => {
      const hooks = recordingHooks();
      const offload = new OffloadService({}, hooks);
      const first = deferred();
      const calls: string[] = [];

      expect(offload.run('refill', () => (calls.push('first'), first.promise), { key: 'user:1' })).toBe(true);
      await settle();
      expect(offload.run('refill', async () => void calls.push('duplicate'), { key: 'user:1' })).toBe(true);
      await settle();

      expect(calls).toEqual(['first']);
      expect(offload.counts()).toMatchObject({ deduplicated: 1, running: 1 });
      expect(hooks.events).toContainEqual({ outcome: 'deduplicated', kind: 'refill', key: 'user:1' });

      first.resolve();
      await settle();
      expect(offload.run('refill', async () => void calls.push('after'), { key: 'user:1' })).toBe(true);
      await settle();

      expect(calls).toEqual(['first', 'after']);
      expect(offload.counts()).toMatchObject({ completed: 2, deduplicated: 1, running: 0, queued: 0 });
    });

    it('joins a task whose key is still queued', async () => {
      const offload = new OffloadService({ concurrency: 1 });
      const blocker = deferred();
      const calls: string[] = [];

      offload.run('write', () => blocker.promise);
      offload.run('refill', async () => void calls.push('queued'), { key: 'k' });
      offload.run('refill', async () => void calls.push('duplicate'), { key: 'k' });
      await settle();
      expect(offload.counts()).toMatchObject({ running: 1, queued: 1, deduplicated: 1 });

      blocker.resolve();
      await settle();
      expect(calls).toEqual(['queued']);
    });

    it('does not deduplicate tasks without a key or with different keys', async () => {
      const offload = new OffloadService();
      let calls = 0;
      const task = async (): Promise<void> => {
        calls++;
      };

      offload.run('write', task);
      offload.run('write', task);
      offload.run('write', task, { key: 'a' });
      offload.run('write', task, { key: 'b' });
      await settle();

      expect(calls).toBe(4);
      expect(offload.counts().deduplicated).toBe(0);
    });
  });

  describe('bounds', () => {
    it('never runs more than `concurrency` tasks at once', async () => {
      const offload = new OffloadService({ concurrency: 3 });
      const gates = Array.from({ length: 10 }, () => deferred());
      let current = 0;
      let max = 0;

      for (const gate of gates) {
        offload.run('refill', async () => {
          current++;
          max = Math.max(max, current);
          await gate.promise;
          current--;
        });
      }
      await settle();
      expect(offload.counts()).toMatchObject({ running: 3, queued: 7 });

      for (const gate of gates) {
        gate.resolve();
        await settle();
      }

      expect(max).toBe(3);
      expect(offload.counts()).toMatchObject({ running: 0, queued: 0, completed: 10 });
    });

    it('rejects tasks beyond `maxQueued`, counts them and never runs them', async () => {
      const hooks = recordingHooks();
      const offload = new OffloadService({ concurrency: 1, maxQueued: 2 }, hooks);
      const blocker = deferred();
      let rejectedRan = false;

      // One takes the free slot, two wait, the fourth has no room.
      expect(offload.run('write', () => blocker.promise)).toBe(true);
      expect(offload.run('write', async () => undefined)).toBe(true);
      expect(offload.run('write', async () => undefined)).toBe(true);
      expect(offload.run('write', async () => void (rejectedRan = true), { key: 'late' })).toBe(false);
      await settle();

      expect(offload.counts()).toMatchObject({ running: 1, queued: 2, rejected: 1 });
      expect(hooks.events).toContainEqual({ outcome: 'rejected', kind: 'write', key: 'late', reason: 'queue-full' });

      blocker.resolve();
      await settle();
      expect(rejectedRan).toBe(false);
      expect(offload.counts()).toMatchObject({ running: 0, queued: 0, completed: 3, rejected: 1 });
    });

    it('does not dedupe against a rejected key', async () => {
      const offload = new OffloadService({ concurrency: 1, maxQueued: 1 });
      const blocker = deferred();

      offload.run('write', () => blocker.promise);
      offload.run('write', () => blocker.promise);
      expect(offload.run('refill', async () => undefined, { key: 'k' })).toBe(false);
      blocker.resolve();
      await settle();

      let ran = false;
      expect(offload.run('refill', async () => void (ran = true), { key: 'k' })).toBe(true);
      await settle();
      expect(ran).toBe(true);
      expect(offload.counts().deduplicated).toBe(0);
    });
  });

  describe('timeouts', () => {
    it('aborts the signal, counts timedOut and hands the slot to a queued task', async () => {
      vi.useFakeTimers();
      const hooks = recordingHooks();
      const offload = new OffloadService({ concurrency: 1, timeoutMs: 100 }, hooks);
      let hungSignal: AbortSignal | undefined;
      let nextStarted = false;

      offload.run(
        'race-loser',
        (signal) => {
          hungSignal = signal;
          return never();
        },
        { key: 'slow' },
      );
      offload.run('refill', async () => void (nextStarted = true));
      await vi.advanceTimersByTimeAsync(99);
      expect(hungSignal?.aborted).toBe(false);
      expect(nextStarted).toBe(false);

      await vi.advanceTimersByTimeAsync(1);

      expect(hungSignal?.aborted).toBe(true);
      expect(hungSignal?.reason).toBeInstanceOf(CacheTimeoutError);
      expect(nextStarted).toBe(true);
      expect(offload.counts()).toMatchObject({ timedOut: 1, completed: 1, running: 0, queued: 0 });
      expect(hooks.events).toContainEqual({ outcome: 'timed-out', kind: 'race-loser', key: 'slow', timeoutMs: 100 });
      expect(hooks.warnings.some((m) => m.includes('race-loser') && m.includes('slow'))).toBe(true);
    });

    it('uses a per-task timeout over the default one', async () => {
      vi.useFakeTimers();
      const offload = new OffloadService({ timeoutMs: 1_000 });
      let signal: AbortSignal | undefined;

      offload.run('write', (s) => ((signal = s), never()), { timeoutMs: 10 });
      await vi.advanceTimersByTimeAsync(10);

      expect(signal?.aborted).toBe(true);
      expect(offload.counts().timedOut).toBe(1);
    });

    it('counts a task that settles after its timeout once, and a late rejection is not unhandled', async () => {
      vi.useFakeTimers();
      const offload = new OffloadService({ timeoutMs: 50 });
      const late = deferred();
      const lateFailure = deferred();

      offload.run('write', () => late.promise, { key: 'a' });
      offload.run('write', () => lateFailure.promise, { key: 'b' });
      await vi.advanceTimersByTimeAsync(50);
      late.resolve();
      lateFailure.reject(new Error('too late'));
      await vi.advanceTimersByTimeAsync(0);

      expect(offload.counts()).toMatchObject({ timedOut: 2, completed: 0, failed: 0, running: 0 });
    });

    it('frees the key of a timed-out task so that the same key can run again', async () => {
      vi.useFakeTimers();
      const offload = new OffloadService({ timeoutMs: 50 });
      let runs = 0;

      offload.run('refill', () => (runs++, never()), { key: 'k' });
      await vi.advanceTimersByTimeAsync(50);
      offload.run('refill', async () => void runs++, { key: 'k' });
      await vi.advanceTimersByTimeAsync(0);

      expect(runs).toBe(2);
      expect(offload.counts().deduplicated).toBe(0);
    });

    it('does not time out a task that settled in time, and leaves no timer behind once the time limit has passed', async () => {
      vi.useFakeTimers();
      const offload = new OffloadService({ timeoutMs: 50 });

      offload.run('write', async () => undefined);
      await vi.advanceTimersByTimeAsync(0);
      expect(offload.counts()).toMatchObject({ completed: 1, timedOut: 0 });
      await vi.advanceTimersByTimeAsync(50);

      expect(vi.getTimerCount()).toBe(0);
      expect(offload.counts()).toMatchObject({ completed: 1, timedOut: 0 });
    });
  });

  describe('failures', () => {
    it('counts a synchronous throw and a rejection as failed and logs kind and key', async () => {
      const hooks = recordingHooks();
      const offload = new OffloadService({}, hooks);
      const thrown = new Error('sync boom');
      const rejected = new Error('async boom');

      offload.run(
        'write',
        () => {
          throw thrown;
        },
        { key: 'user:1' },
      );
      offload.run('refill', () => Promise.reject(rejected), { key: 'user:2' });
      await settle();

      expect(offload.counts()).toMatchObject({ failed: 2, completed: 0, running: 0 });
      expect(hooks.events).toContainEqual({ outcome: 'failed', kind: 'write', key: 'user:1', error: thrown });
      expect(hooks.events).toContainEqual({ outcome: 'failed', kind: 'refill', key: 'user:2', error: rejected });
      expect(hooks.warnings).toHaveLength(2);
      expect(hooks.warnings[0]).toContain('write');
      expect(hooks.warnings[0]).toContain('user:1');
      expect(hooks.warnings[0]).toContain('sync boom');
      expect(hooks.warnings[1]).toContain('refill');
      expect(hooks.warnings[1]).toContain('user:2');
      expect(hooks.warnings[1]).toContain('async boom');
    });

    it('keeps running queued work after a failure', async () => {
      const offload = new OffloadService({ concurrency: 1 });
      let ran = false;

      offload.run('write', () => {
        throw new Error('boom');
      });
      offload.run('write', async () => void (ran = true));
      await settle();

      expect(ran).toBe(true);
      expect(offload.counts()).toMatchObject({ failed: 1, completed: 1 });
    });

    it('is silent without a logger', async () => {
      const offload = new OffloadService();

      offload.run('write', () => Promise.reject(new Error('quiet')));
      await settle();

      expect(offload.counts().failed).toBe(1);
    });

    it('survives an onEvent hook and a logger that throw', async () => {
      const offload = new OffloadService(
        { concurrency: 1, maxQueued: 1 },
        {
          onEvent: () => {
            throw new Error('hook boom');
          },
          logger: {
            warn: () => {
              throw new Error('warn boom');
            },
            error: () => {
              throw new Error('error boom');
            },
          },
        },
      );
      const blocker = deferred();

      expect(offload.run('write', () => blocker.promise, { key: 'a' })).toBe(true);
      expect(offload.run('write', () => Promise.reject(new Error('fails')))).toBe(true);
      expect(offload.run('write', async () => undefined)).toBe(false);
      expect(offload.run('write', async () => undefined, { key: 'a' })).toBe(true);
      blocker.resolve();
      await settle();

      expect(offload.counts()).toMatchObject({ completed: 1, failed: 1, rejected: 1, deduplicated: 1, running: 0 });
      await expect(offload.shutdown()).resolves.toEqual({ drained: true, pending: 0 });
    });
  });

  describe('drain', () => {
    it('starts queued tasks itself, so that fake timers holding back the next turn cannot stall it', async () => {
      vi.useFakeTimers();
      const offload = new OffloadService();
      const done: string[] = [];
      offload.run('write', async () => {
        done.push('a');
      });
      offload.run('write', async () => {
        done.push('b');
      });

      await expect(offload.drain()).resolves.toEqual({ drained: true, pending: 0 });
      expect(done).toEqual(['a', 'b']);
      expect(offload.counts()).toMatchObject({ completed: 2, queued: 0, running: 0 });
    });

    it('resolves at once when idle', async () => {
      const offload = new OffloadService();

      await expect(offload.drain()).resolves.toEqual({ drained: true, pending: 0 });
    });

    it('waits for running and queued tasks to settle', async () => {
      const offload = new OffloadService({ concurrency: 1 });
      const gates = [deferred(), deferred(), deferred()];
      for (const gate of gates) offload.run('write', () => gate.promise);
      let result: unknown;

      const drained = offload.drain().then((r) => (result = r));
      await settle();
      gates[0].resolve();
      gates[1].reject(new Error('one fails'));
      await settle();
      expect(result).toBeUndefined();
      expect(offload.counts()).toMatchObject({ running: 1, queued: 0 });

      gates[2].resolve();
      await drained;
      expect(result).toEqual({ drained: true, pending: 0 });
      expect(offload.counts()).toMatchObject({ completed: 2, failed: 1 });
    });

    it('returns the number still pending when its timeout passes', async () => {
      vi.useFakeTimers();
      const offload = new OffloadService({ concurrency: 1, timeoutMs: 10_000 });
      offload.run('write', never);
      offload.run('write', never);

      const drained = offload.drain(100);
      await vi.advanceTimersByTimeAsync(100);

      await expect(drained).resolves.toEqual({ drained: false, pending: 2 });
      expect(offload.counts()).toMatchObject({ running: 1, queued: 1 });
    });

    it('counts a task that times out as settled', async () => {
      vi.useFakeTimers();
      const offload = new OffloadService({ timeoutMs: 200 });
      offload.run('write', never);
      await vi.advanceTimersByTimeAsync(50);

      const drained = offload.drain(1_000);
      await vi.advanceTimersByTimeAsync(150);

      await expect(drained).resolves.toEqual({ drained: true, pending: 0 });
      expect(offload.counts().timedOut).toBe(1);
    });

    it('defaults its deadline to the service task timeout', async () => {
      vi.useFakeTimers();
      const offload = new OffloadService({ timeoutMs: 200 });
      offload.run('write', never, { timeoutMs: 10_000 });
      let result: unknown;

      const drained = offload.drain().then((r) => (result = r));
      await vi.advanceTimersByTimeAsync(199);
      expect(result).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);

      await drained;
      expect(result).toEqual({ drained: false, pending: 1 });
    });

    it('keeps accepting tasks while draining and does not wait for them', async () => {
      const offload = new OffloadService();
      const first = deferred();
      const later = deferred();
      offload.run('write', () => first.promise);

      const drained = offload.drain();
      expect(offload.run('write', () => later.promise)).toBe(true);
      first.resolve();

      await expect(drained).resolves.toEqual({ drained: true, pending: 0 });
      expect(offload.counts().running).toBe(1);
      later.resolve();
      await expect(offload.drain()).resolves.toEqual({ drained: true, pending: 0 });
    });

    it('rejects an invalid timeout', async () => {
      const offload = new OffloadService();

      await expect(offload.drain(-1)).rejects.toThrow(LayeredCacheError);
      await expect(offload.drain(Number.NaN)).rejects.toThrow(/drain\(timeoutMs\).*NaN/);
    });
  });

  describe('shutdown', () => {
    it('stops accepting work, aborts what is still running past its deadline and logs what it abandoned', async () => {
      vi.useFakeTimers();
      const hooks = recordingHooks();
      const offload = new OffloadService({ concurrency: 1, timeoutMs: 10_000 }, hooks);
      let runningSignal: AbortSignal | undefined;
      let queuedStarted = false;
      offload.run('race-loser', (signal) => ((runningSignal = signal), never()), { key: 'a' });
      offload.run('refill', async () => void (queuedStarted = true), { key: 'b' });
      await vi.advanceTimersByTimeAsync(0);

      const result = offload.shutdown(50);
      expect(offload.run('write', async () => undefined, { key: 'c' })).toBe(false);
      expect(hooks.events).toContainEqual({ outcome: 'rejected', kind: 'write', key: 'c', reason: 'closed' });
      await vi.advanceTimersByTimeAsync(50);

      await expect(result).resolves.toEqual({ drained: false, pending: 2 });
      expect(runningSignal?.aborted).toBe(true);
      expect(runningSignal?.reason).toBeInstanceOf(LayeredCacheError);
      expect(queuedStarted).toBe(false);
      expect(offload.counts()).toMatchObject({ running: 0, queued: 0, abandoned: 2, rejected: 1 });
      expect(hooks.errors).toHaveLength(1);
      expect(hooks.errors[0]).toContain('abandoned 2');
      expect(hooks.errors[0]).toContain('1 running');
      expect(hooks.errors[0]).toContain('1 never started');
    });

    it('lets work that finishes in time complete and logs nothing', async () => {
      const hooks = recordingHooks();
      const offload = new OffloadService({}, hooks);
      const gate = deferred();
      offload.run('write', () => gate.promise);

      const result = offload.shutdown();
      gate.resolve();

      await expect(result).resolves.toEqual({ drained: true, pending: 0 });
      expect(hooks.errors).toEqual([]);
      expect(offload.counts()).toMatchObject({ completed: 1, abandoned: 0 });
    });

    it('is idempotent', async () => {
      vi.useFakeTimers();
      const hooks = recordingHooks();
      const offload = new OffloadService({}, hooks);
      offload.run('write', never);

      const first = offload.shutdown(10);
      const second = offload.shutdown(10_000);
      await vi.advanceTimersByTimeAsync(10);

      expect(second).toBe(first);
      await expect(first).resolves.toEqual({ drained: false, pending: 1 });
      await expect(offload.shutdown()).resolves.toEqual({ drained: false, pending: 1 });
      expect(hooks.errors).toHaveLength(1);
      expect(offload.counts().abandoned).toBe(1);
    });

    it('does not count a task that settles after being abandoned', async () => {
      vi.useFakeTimers();
      const offload = new OffloadService({ timeoutMs: 10_000 });
      const late = deferred();
      offload.run('write', () => late.promise);
      await vi.advanceTimersByTimeAsync(0);

      const result = offload.shutdown(10);
      await vi.advanceTimersByTimeAsync(10);
      await result;
      late.reject(new Error('after shutdown'));
      await vi.advanceTimersByTimeAsync(0);

      expect(offload.counts()).toMatchObject({ abandoned: 1, failed: 0, completed: 0 });
    });
  });

  describe('counts', () => {
    it('reports every outcome accurately', async () => {
      vi.useFakeTimers();
      const offload = new OffloadService({ concurrency: 2, maxQueued: 1, timeoutMs: 100 });
      const gate = deferred();

      offload.run('write', () => gate.promise, { key: 'ok' });
      offload.run('write', never, { key: 'hangs' });
      offload.run('write', () => Promise.reject(new Error('x')));
      offload.run('write', async () => undefined, { key: 'ok' });
      offload.run('write', async () => undefined);
      expect(offload.counts()).toEqual({
        running: 0,
        queued: 3,
        completed: 0,
        failed: 0,
        timedOut: 0,
        rejected: 1,
        deduplicated: 1,
        abandoned: 0,
      });

      await vi.advanceTimersByTimeAsync(0);
      expect(offload.counts()).toMatchObject({ running: 2, queued: 1 });

      gate.resolve();
      await vi.advanceTimersByTimeAsync(100);
      expect(offload.counts()).toEqual({
        running: 0,
        queued: 0,
        completed: 1,
        failed: 1,
        timedOut: 1,
        rejected: 1,
        deduplicated: 1,
        abandoned: 0,
      });
    });

    it('returns a snapshot that later work does not change', async () => {
      const offload = new OffloadService();
      const before = offload.counts();

      offload.run('write', async () => undefined);
      await settle();

      expect(before.completed).toBe(0);
      expect(offload.counts().completed).toBe(1);
    });
  });

  describe('options', () => {
    it.each([
      ['concurrency', 0],
      ['concurrency', -1],
      ['concurrency', 1.5],
      ['concurrency', Number.NaN],
      ['maxQueued', 0],
      ['maxQueued', 2.5],
      ['maxQueued', Number.POSITIVE_INFINITY],
      ['timeoutMs', 0],
      ['timeoutMs', -5],
      ['timeoutMs', Number.NaN],
      ['timeoutMs', Number.POSITIVE_INFINITY],
    ] as const)('rejects %s = %s with an error naming the option and the value', (option, value) => {
      expect(() => new OffloadService({ [option]: value })).toThrow(LayeredCacheError);
      expect(() => new OffloadService({ [option]: value })).toThrow(
        new RegExp(`"${option}" must be .*got ${String(value).replace('.', '\\.')}`),
      );
    });

    it('names a non-number value in the error', () => {
      expect(() => new OffloadService({ concurrency: '8' as unknown as number })).toThrow(/"concurrency".*got "8"/);
    });

    it('accepts fractional timeouts and the defaults', () => {
      expect(() => new OffloadService({ timeoutMs: 0.5 })).not.toThrow();
      expect(new OffloadService().counts()).toMatchObject({ running: 0, queued: 0 });
    });

    it('rejects an invalid per-task timeout in run', () => {
      const offload = new OffloadService();

      expect(() => offload.run('write', async () => undefined, { timeoutMs: 0 })).toThrow(/run\(\) timeoutMs.*got 0/);
      expect(offload.counts()).toMatchObject({ queued: 0, rejected: 0 });
    });
  });
});
