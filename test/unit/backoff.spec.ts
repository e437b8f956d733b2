import { describe, expect, it } from 'vitest';
import { Backoff } from '../../lib/core/backoff';

describe('Backoff', () => {
  it('doubles each delay up to the maximum, each drawn between half of it and all of it, and starts again after reset()', () => {
    const backoff = new Backoff(100, 1_000);
    const bounds = [100, 200, 400, 800, 1_000, 1_000];
    for (const bound of bounds) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(bound / 2);
      expect(delay).toBeLessThanOrEqual(bound);
    }
    backoff.reset();
    expect(backoff.next()).toBeLessThanOrEqual(100);
  });

  it('spreads the delays of instances that fail together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => new Backoff(1_000, 30_000).next()));
    expect(delays.size).toBeGreaterThan(10);
  });
});
