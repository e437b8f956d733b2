import { describe, expect, it } from 'vitest';
import { createCacheEntry, type ReplayOutcome } from '../../lib';
import { L2WriteReplayQueue, type ReplayOperation } from '../../lib/resilience/l2-write-replay-queue';
import type { ReplayDecision } from '../../lib/resilience/l2-write-replay-queue';
import { deferred } from '../support/deferred';

const tolerated = (): ReplayDecision => ({ state: 'tolerated' });
const set = (value: unknown, ttlMs = 60_000): ReplayOperation => ({ kind: 'set', entry: createCacheEntry(value, ttlMs) });

function newQueue(options: { maxEntries?: number; concurrency?: number } = {}) {
  const outcomes: string[] = [];
  const queue = new L2WriteReplayQueue(options, (outcome: ReplayOutcome, key) => outcomes.push(`${outcome}:${key}`));
  const written: [string, ReplayOperation][] = [];
  const writeAll = (key: string, operation: ReplayOperation) => {
    written.push([key, operation]);
    return Promise.resolve();
  };
  return { queue, outcomes, written, writeAll, always: () => 0 };
}

describe('L2WriteReplayQueue', () => {
  it('keeps one write per key: the newest wins, an older one offered later is refused', async () => {
    const { queue, written, writeAll, always } = newQueue();
    queue.keep('k', set('v1'), 1, tolerated());
    queue.keep('k', set('v3'), 3, tolerated());
    expect(queue.keep('k', set('v2'), 2, tolerated())).toBe(false);
    expect(queue.size).toBe(1);
    expect(await queue.replay(writeAll, always)).toBe('drained');
    expect(written.map(([key, op]) => [key, op.kind === 'set' ? op.entry.value : 'delete'])).toEqual([['k', 'v3']]);
    expect(queue.stats()).toMatchObject({ kept: 2, superseded: 1, replayed: 1, pending: 0 });
  });

  it('replays oldest first, and a delete replaces a kept write of its key', async () => {
    const { queue, written, writeAll, always } = newQueue({ concurrency: 1 });
    queue.keep('a', set(1), 1, tolerated());
    queue.keep('b', set(2), 2, tolerated());
    queue.keep('a', { kind: 'delete' }, 3, tolerated());
    await queue.replay(writeAll, always);
    expect(written.map(([key, op]) => `${op.kind}:${key}`)).toEqual(['set:b', 'delete:a']);
  });

  it('supersede cancels a kept write (a newer write or an eviction started)', async () => {
    const { queue, outcomes, written, writeAll, always } = newQueue();
    queue.keep('a', set(1), 1, tolerated());
    queue.keep('user:1', set(1), 2, tolerated());
    queue.keep('user:2', set(2), 3, tolerated());
    queue.supersede('a');
    queue.supersedePrefix('user:');
    await queue.replay(writeAll, always);
    expect(written).toEqual([]);
    expect(outcomes).toEqual(['kept:a', 'kept:user:1', 'kept:user:2', 'superseded:a', 'superseded:user:1', 'superseded:user:2']);
  });

  it('is bounded: when full it drops the oldest key and counts it', () => {
    const { queue, outcomes } = newQueue({ maxEntries: 2 });
    queue.keep('a', set(1), 1, tolerated());
    queue.keep('b', set(2), 2, tolerated());
    queue.keep('c', set(3), 3, tolerated());
    queue.keep('b', set(4), 4, tolerated()); // replacing a key takes no extra room
    expect(queue.size).toBe(2);
    expect(queue.stats().dropped).toBe(1);
    expect(outcomes).toContain('dropped:a');
  });

  it('waits for the policy: pending writes are not replayed, refused ones are withdrawn', async () => {
    const { queue, written, writeAll, always } = newQueue();
    const pending: ReplayDecision = { state: 'pending' };
    const refused: ReplayDecision = { state: 'pending' };
    queue.keep('p', set(1), 1, pending);
    queue.keep('r', set(2), 2, refused);
    refused.state = 'refused';
    queue.withdraw('r', refused);
    expect(await queue.replay(writeAll, always)).toBe('drained');
    expect(written).toEqual([]);
    expect(queue.size).toBe(1);
    pending.state = 'tolerated';
    await queue.replay(writeAll, always);
    expect(written.map(([key]) => key)).toEqual(['p']);
    expect(queue.stats()).toMatchObject({ withdrawn: 1, replayed: 1 });
  });

  it('skips entries that expired before they could be replayed', async () => {
    const { queue, written, writeAll, always } = newQueue();
    queue.keep('old', { kind: 'set', entry: createCacheEntry(1, 10, Date.now() - 20) }, 1, tolerated());
    queue.keep('new', set(2), 2, tolerated());
    await queue.replay(writeAll, always);
    expect(written.map(([key]) => key)).toEqual(['new']);
    expect(queue.stats().expired).toBe(1);
  });

  it('stops at the first failed write and keeps it for the next run', async () => {
    const { queue, always } = newQueue({ concurrency: 1 });
    queue.keep('a', set(1), 1, tolerated());
    queue.keep('b', set(2), 2, tolerated());
    const attempted: string[] = [];
    const outcome = await queue.replay((key) => {
      attempted.push(key);
      return Promise.reject(new Error('L2 down'));
    }, always);
    expect(outcome).toBe('failed');
    expect(attempted).toEqual(['a']);
    expect(queue.size).toBe(2);
    expect(queue.stats().failedAttempts).toBe(1);
  });

  it('does not put a failed replay back when a newer write of its key started meanwhile', async () => {
    const { queue, always } = newQueue();
    queue.keep('k', set('old'), 1, tolerated());
    const write = deferred();
    const run = queue.replay(() => write.promise, always);
    queue.supersede('k'); // a newer write of k starts while the old value is being replayed
    write.reject(new Error('L2 down'));
    expect(await run).toBe('failed');
    expect(queue.size).toBe(0);
  });

  it('stops when the permit is refused, and honours a limit', async () => {
    const { queue, written, writeAll } = newQueue();
    for (let i = 0; i < 5; i++) queue.keep(`k${i}`, set(i), i + 1, tolerated());
    expect(await queue.replay(writeAll, () => undefined)).toBe('refused');
    expect(written).toEqual([]);
    expect(await queue.replay(writeAll, () => 0, { limit: 2, concurrency: 1 })).toBe('refused');
    expect(written.map(([key]) => key)).toEqual(['k0', 'k1']);
  });

  it('runs at most `concurrency` writes at once', async () => {
    const { queue, always } = newQueue({ concurrency: 3 });
    for (let i = 0; i < 20; i++) queue.keep(`k${i}`, set(i), i + 1, tolerated());
    let running = 0;
    let peak = 0;
    await queue.replay(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 1));
      running--;
    }, always);
    expect(peak).toBe(3);
    expect(queue.stats().replayed).toBe(20);
  });

  it('abandons what is left and counts it', () => {
    const { queue, outcomes } = newQueue();
    queue.keep('a', set(1), 1, tolerated());
    queue.keep('b', { kind: 'delete' }, 2, tolerated());
    expect(queue.abandonAll()).toBe(2);
    queue.abandonOne('c', set(3));
    expect(queue.stats()).toMatchObject({ pending: 0, abandoned: 3 });
    expect(outcomes.slice(-3)).toEqual(['abandoned:a', 'abandoned:b', 'abandoned:c']);
  });

  it('rejects options out of range', () => {
    expect(() => new L2WriteReplayQueue({ maxEntries: 0 })).toThrow(/replay.maxEntries.*positive integer/);
    expect(() => new L2WriteReplayQueue({ concurrency: 1.5 })).toThrow(/replay.concurrency/);
  });
});
