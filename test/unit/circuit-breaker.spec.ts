import { describe, expect, it } from 'vitest';
import { LayeredCacheError } from '../../lib';
import { CircuitBreaker, type CircuitStateChange } from '../../lib/resilience/circuit-breaker';

function newBreaker(options: { failureThreshold?: number; cooldownMs?: number } = {}) {
  let now = 1_000;
  const changes: CircuitStateChange[] = [];
  const breaker = new CircuitBreaker(
    { failureThreshold: 3, cooldownMs: 100, ...options },
    { now: () => now, onStateChange: (change) => changes.push(change) },
  );
  return { breaker, changes, advance: (ms: number) => (now += ms) };
}

/** Fails `count` calls in a row. */
function fail(breaker: CircuitBreaker, count: number, error: unknown = new Error('down')): void {
  for (let i = 0; i < count; i++) breaker.failure(breaker.acquire() as number, error);
}

describe('CircuitBreaker', () => {
  it('stays closed below the threshold, and a success resets the count', () => {
    const { breaker } = newBreaker();
    fail(breaker, 2);
    breaker.success(breaker.acquire() as number);
    fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().consecutiveFailures).toBe(2);
  });

  it('opens at the threshold, refuses calls during the cool-down and counts them', () => {
    const { breaker, changes } = newBreaker();
    const error = new Error('ECONNREFUSED');
    fail(breaker, 3, error);
    expect(breaker.state).toBe('open');
    expect(changes).toEqual([{ state: 'open', previous: 'closed', failures: 3, error }]);
    expect(breaker.acquire()).toBeUndefined();
    expect(breaker.acquire()).toBeUndefined();
    expect(breaker.stats()).toMatchObject({ state: 'open', opened: 1, refused: 2, retryAt: 1_100 });
  });

  it('lets exactly one probe through after the cool-down; its success closes the breaker', () => {
    const { breaker, changes, advance } = newBreaker();
    fail(breaker, 3);
    advance(99);
    expect(breaker.acquire()).toBeUndefined();
    advance(1);
    const probe = breaker.acquire();
    expect(probe).toBeDefined();
    expect(breaker.state).toBe('half-open');
    expect(breaker.acquire()).toBeUndefined(); // one probe at a time
    breaker.success(probe as number);
    expect(breaker.state).toBe('closed');
    expect(changes.map((c) => `${c.previous}->${c.state}`)).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
    expect(breaker.acquire()).toBeDefined();
  });

  it('opens again for a new cool-down when the probe fails', () => {
    const { breaker, advance } = newBreaker();
    fail(breaker, 3);
    advance(100);
    breaker.failure(breaker.acquire() as number, new Error('still down'));
    expect(breaker.state).toBe('open');
    expect(breaker.stats().opened).toBe(2);
    advance(50);
    expect(breaker.acquire()).toBeUndefined();
    advance(50);
    expect(breaker.acquire()).toBeDefined();
  });

  it('gives the probe slot back when the probe ends without a verdict', () => {
    const { breaker, advance } = newBreaker();
    fail(breaker, 3);
    advance(100);
    breaker.release(breaker.acquire() as number);
    expect(breaker.state).toBe('half-open');
    expect(breaker.acquire()).toBeDefined();
  });

  it('ignores late answers of calls that started before the state changed', () => {
    const { breaker, advance } = newBreaker();
    const early = breaker.acquire() as number;
    fail(breaker, 3);
    breaker.success(early); // a slow call that started while closed cannot close an open breaker
    expect(breaker.state).toBe('open');
    advance(100);
    const probe = breaker.acquire() as number;
    breaker.failure(early, new Error('late')); // nor fail the probe
    expect(breaker.state).toBe('half-open');
    breaker.success(probe);
    expect(breaker.state).toBe('closed');
    breaker.failure(early, new Error('later'));
    expect(breaker.stats().consecutiveFailures).toBe(0);
  });

  it('counts calls that were in flight together, and failed together, as one failure', () => {
    const { breaker, advance } = newBreaker();
    // Five calls start at once and all time out 200 ms later: one slow moment, not five failures in a row.
    const startedAt = breaker.clock();
    const permits = Array.from({ length: 5 }, () => breaker.acquire() as number);
    advance(200);
    for (const permit of permits) breaker.failure(permit, new Error('timed out'), startedAt);
    expect(breaker.stats().consecutiveFailures).toBe(1);
    expect(breaker.state).toBe('closed');
    // Calls started after that failure each count again: the threshold is reached by failures one after another.
    for (let i = 0; i < 2; i++) {
      const started = breaker.clock();
      const permit = breaker.acquire() as number;
      advance(200);
      breaker.failure(permit, new Error('timed out'), started);
    }
    expect(breaker.state).toBe('open');
  });

  it('endCooldown lets the next call probe at once', () => {
    const { breaker } = newBreaker({ cooldownMs: 60_000 });
    fail(breaker, 3);
    breaker.endCooldown();
    expect(breaker.acquire()).toBeDefined();
    expect(breaker.state).toBe('half-open');
  });

  it('survives a listener that throws', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1 }, { onStateChange: () => { throw new Error('listener'); } });
    fail(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it.each([
    [{ failureThreshold: 0 }, /failureThreshold.*positive integer/],
    [{ failureThreshold: 1.5 }, /failureThreshold/],
    [{ cooldownMs: 0 }, /cooldownMs.*greater than 0/],
    [{ cooldownMs: Number.POSITIVE_INFINITY }, /cooldownMs/],
  ])('rejects %o with a message naming the option', (options, message) => {
    expect(() => new CircuitBreaker(options)).toThrow(LayeredCacheError);
    expect(() => new CircuitBreaker(options)).toThrow(message);
  });
});
