import { describe, expect, it, vi } from 'vitest';
import { type BatchedItem, CommandBatcher, MAX_ITEMS_PER_COMMAND as MAX_KEYS_PER_MGET } from '../../lib/stores/redis/command-batcher';

interface Read extends BatchedItem {
  readonly key: string;
}

class GetBatcher extends CommandBatcher<Read> {
  constructor(getOne: (key: string) => Promise<unknown>, getMany: (keys: string[]) => Promise<unknown>) {
    // As RedisStore reads: the first of a turn at once.
    super((read) => getOne(read.key), (reads) => getMany(reads.map((read) => read.key)), 'MGET', true);
  }
}

/** Queues a read and resolves with its reply, or rejects with its error. */
function read(batcher: GetBatcher, key: string): Promise<unknown> {
  return new Promise((resolve, reject) => batcher.enqueue({ key, answer: resolve, fail: reject }));
}

function fakeRedis(values: Record<string, string>) {
  const getOne = vi.fn((key: string) => Promise.resolve(values[key] ?? null));
  const getMany = vi.fn((keys: string[]) => Promise.resolve(keys.map((key) => values[key] ?? null)));
  return { getOne, getMany, batcher: new GetBatcher(getOne, getMany) };
}

describe('CommandBatcher, batching GETs into MGETs', () => {
  it('sends a lone read as a plain GET', async () => {
    const { getOne, getMany, batcher } = fakeRedis({ a: 'A' });
    await expect(read(batcher, 'a')).resolves.toBe('A');
    expect(getOne).toHaveBeenCalledWith('a');
    expect(getMany).not.toHaveBeenCalled();
  });

  it('sends the first read of a turn at once and the ones asked for after it as one MGET, each answered with its own reply', async () => {
    const { getOne, getMany, batcher } = fakeRedis({ a: 'A', c: 'C', d: 'D' });
    const reads = Promise.all([read(batcher, 'a'), read(batcher, 'b'), read(batcher, 'c'), read(batcher, 'd')]);
    expect(getOne).toHaveBeenCalledWith('a');
    expect(getMany).not.toHaveBeenCalled();
    await expect(reads).resolves.toEqual(['A', null, 'C', 'D']);
    expect(getOne).toHaveBeenCalledTimes(1);
    expect(getMany).toHaveBeenCalledTimes(1);
    expect(getMany).toHaveBeenCalledWith(['b', 'c', 'd']);
    await expect(read(batcher, 'c')).resolves.toBe('C');
    expect(getOne).toHaveBeenCalledTimes(2);
  });

  it('hands the reads to the client in the order they were asked for, across turns of the microtasks', async () => {
    const sent: string[] = [];
    const batcher = new GetBatcher(
      (key) => {
        sent.push(key);
        return Promise.resolve(null);
      },
      (keys) => {
        sent.push(...keys);
        return Promise.resolve(keys.map(() => null));
      },
    );
    const first = [read(batcher, 'a'), read(batcher, 'b')];
    await Promise.resolve();
    const second = [read(batcher, 'c'), read(batcher, 'd')];
    await Promise.all([...first, ...second]);
    expect(sent).toEqual(['a', 'b', 'c', 'd']);
  });

  it(`splits a burst into MGETs of at most ${MAX_KEYS_PER_MGET} keys`, async () => {
    const { getMany, batcher } = fakeRedis({});
    const keys = Array.from({ length: MAX_KEYS_PER_MGET * 2 + 1 }, (_, index) => `k${index}`);
    await Promise.all(keys.map((key) => read(batcher, key)));
    // The first goes out on its own; the others in MGETs of the bound.
    expect(getMany.mock.calls.map(([batch]) => batch.length)).toEqual([MAX_KEYS_PER_MGET, MAX_KEYS_PER_MGET]);
  });

  it('rejects every read of a batch with the error of its MGET, and of a GET that throws', async () => {
    const failure = new Error('connection lost');
    const batcher = new GetBatcher(
      () => {
        throw failure;
      },
      () => Promise.reject(failure),
    );
    const results = await Promise.allSettled([read(batcher, 'a'), read(batcher, 'b')]);
    expect(results).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ]);
    await expect(read(batcher, 'a')).rejects.toBe(failure);
  });

  it('rejects the reads of a batch whose reply does not have one value per key', async () => {
    const batcher = new GetBatcher(
      () => Promise.resolve(null),
      () => Promise.resolve(['only one']),
    );
    const results = await Promise.allSettled([read(batcher, 'a'), read(batcher, 'b'), read(batcher, 'c')]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
  });

  it('gathers every item of a turn, the first included, into one command when the first is not sent at once (as writes are)', async () => {
    const sendOne = vi.fn(() => Promise.resolve(1));
    const sendMany = vi.fn((items: Read[]) => Promise.resolve(items.map(() => 1)));
    const batcher = new CommandBatcher<Read>(sendOne, sendMany, 'the versioned write script');
    const writes = ['a', 'b', 'c'].map((key) => new Promise((resolve, reject) => batcher.enqueue({ key, answer: resolve, fail: reject })));
    expect(sendMany).not.toHaveBeenCalled();
    await expect(Promise.all(writes)).resolves.toEqual([1, 1, 1]);
    expect(sendOne).not.toHaveBeenCalled();
    expect(sendMany.mock.calls.map(([items]) => items.map((item) => item.key))).toEqual([['a', 'b', 'c']]);
  });
});
