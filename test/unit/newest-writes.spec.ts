import { describe, expect, it } from 'vitest';
import { MAX_REMEMBERED_KEYS, NewestWrites } from '../../lib/resilience/newest-writes';

describe('NewestWrites', () => {
  it('numbers writes in the order they start', () => {
    const writes = new NewestWrites();
    expect([writes.start('a'), writes.start('b'), writes.start('a')]).toEqual([1, 2, 3]);
  });

  it('tells the newest write of a key from an older one, whichever finishes first', () => {
    const writes = new NewestWrites();
    const older = writes.start('a');
    const newer = writes.start('a');
    expect(writes.finish('a', older)).toBe(false);
    expect(writes.finish('a', newer)).toBe(true);

    const first = writes.start('a');
    const second = writes.start('a');
    expect(writes.finish('a', second)).toBe(true);
    expect(writes.finish('a', first)).toBe(false);
  });

  it('keeps a write the newest when a write of the same key started and finished before it', () => {
    const writes = new NewestWrites();
    const other = writes.start('b');
    const earlier = writes.start('a');
    expect(writes.finish('a', earlier)).toBe(true);
    const later = writes.start('a');
    expect(writes.finish('a', later)).toBe(true);
    expect(writes.finish('b', other)).toBe(true);
  });

  it('forgets every key once no write is in flight', () => {
    const writes = new NewestWrites();
    const seqs = ['a', 'b', 'c'].map((key) => [key, writes.start(key)] as const);
    expect(writes.rememberedKeys).toBe(3);
    for (const [key, seq] of seqs) writes.finish(key, seq);
    expect(writes.writesInFlight).toBe(0);
    expect(writes.rememberedKeys).toBe(0);
  });

  it('stays bounded while writes never pause', () => {
    const writes = new NewestWrites();
    const pinned = writes.start('pinned');
    for (let index = 0; index < MAX_REMEMBERED_KEYS * 3; index++) {
      const key = `key:${index}`;
      writes.finish(key, writes.start(key));
    }
    expect(writes.writesInFlight).toBe(1);
    expect(writes.rememberedKeys).toBeLessThanOrEqual(MAX_REMEMBERED_KEYS + 1);
    expect(writes.finish('pinned', pinned)).toBe(true);
    expect(writes.rememberedKeys).toBe(0);
  });
});
