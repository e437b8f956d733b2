import { describe, expect, it } from 'vitest';
import { VERSION_LENGTH, VersionClock } from '../../lib/core/version-clock';

describe('VersionClock', () => {
  it('makes versions of 23 digits that only grow, also within one millisecond and when the clock steps back', () => {
    const clock = new VersionClock('000042');
    const versions = [clock.next(1_000), clock.next(1_000), clock.next(999), clock.next(2_000)];
    for (const version of versions) expect(version).toMatch(/^\d{23}$/);
    expect(versions[0].length).toBe(VERSION_LENGTH);
    expect([...versions].sort()).toEqual(versions);
    expect(new Set(versions).size).toBe(versions.length);
  });

  it('moves to the next millisecond once one millisecond has had 10 000 versions', () => {
    const clock = new VersionClock('000042');
    const versions = Array.from({ length: 10_001 }, () => clock.next(1_000));
    expect([...versions].sort()).toEqual(versions);
    expect(versions[9_999]).toBe('00000000010009999000042');
    expect(versions[10_000]).toBe('00000000010010000000042');
  });

  it('moves past a version read from another writer, so that the next write is newer than it', () => {
    const mine = new VersionClock('000001');
    const theirs = new VersionClock('000002');
    const ahead = theirs.next(5_000);
    mine.observe(ahead);
    expect(mine.next(1_000) > ahead).toBe(true);
  });

  it('ignores what is not a version', () => {
    const clock = new VersionClock('000001');
    clock.observe('not a version');
    clock.observe(undefined);
    expect(clock.next(10)).toBe('00000000000100000000001');
  });

  it('refuses a writer id that is not six digits', () => {
    expect(() => new VersionClock('abc')).toThrow(/not six digits/);
  });
});
