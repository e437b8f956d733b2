import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CacheEventBus, CacheLayerError, CacheSerializationError, CacheTimeoutError } from '../../lib';
import { CacheFailureLog } from '../../lib/nest/layered-cache.failure-log';

const WINDOW_MS = 10_000;

function timeout(key: string): CacheLayerError {
  return new CacheLayerError('l2', 'get', key, new CacheTimeoutError('Redis GET did not answer within 200 ms.'));
}

describe('CacheFailureLog', () => {
  let events: CacheEventBus;
  let lines: string[];
  let log: CacheFailureLog;

  beforeEach(() => {
    vi.useFakeTimers();
    events = new CacheEventBus();
    lines = [];
    log = new CacheFailureLog(events.errors$, { warn: (message) => lines.push(message) }, WINDOW_MS);
  });

  afterEach(() => {
    log.close();
    vi.useRealTimers();
  });

  it('logs the first failure of a kind at once and summarises the rest in one line when the window ends', () => {
    for (let i = 0; i < 50; i++) events.error({ layer: 'l2', operation: 'get', key: `k${i}`, error: timeout(`k${i}`) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Cache failure \(L2 get, CacheTimeoutError\): L2 get of "k0" failed: Redis GET did not answer/);

    vi.advanceTimersByTime(WINDOW_MS - 1);
    expect(lines).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^Cache failure \(L2 get, CacheTimeoutError\): 49 more in the last 10 s; the last: L2 get of "k49" failed/);
  });

  it('keeps summarising every window while a kind keeps failing, and logs at once again after a quiet window', () => {
    events.error({ layer: 'l2', operation: 'get', key: 'a', error: timeout('a') });
    vi.advanceTimersByTime(WINDOW_MS / 2);
    events.error({ layer: 'l2', operation: 'get', key: 'b', error: timeout('b') });
    vi.advanceTimersByTime(WINDOW_MS / 2);
    expect(lines).toHaveLength(2);
    events.error({ layer: 'l2', operation: 'get', key: 'c', error: timeout('c') });
    vi.advanceTimersByTime(WINDOW_MS);
    expect(lines[2]).toMatch(/1 more in the last 10 s; the last: L2 get of "c"/);
    // A whole window without failures of the kind: it is forgotten, so the next one is news again.
    vi.advanceTimersByTime(WINDOW_MS);
    expect(lines).toHaveLength(3);
    events.error({ layer: 'l2', operation: 'get', key: 'd', error: timeout('d') });
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^Cache failure \(L2 get, CacheTimeoutError\): L2 get of "d" failed/);
  });

  it('tells kinds apart by layer, operation and error class, and ignores the key', () => {
    events.error({ layer: 'l2', operation: 'get', key: 'a', error: timeout('a') });
    events.error({ layer: 'l2', operation: 'set', key: 'a', error: new CacheLayerError('l2', 'set', 'a', new CacheTimeoutError('slow')) });
    events.error({ layer: 'l2', operation: 'get', key: 'a', error: new CacheLayerError('l2', 'get', 'a', new Error('ECONNRESET')) });
    events.error({ layer: 'l1', operation: 'get', key: 'a', error: new CacheLayerError('l1', 'get', 'a', new Error('out of memory')) });
    events.error({ layer: 'l2', operation: 'serialize', key: 'a', error: new CacheSerializationError('value.n is a BigInt') });
    events.error({ operation: 'key', error: new TypeError('args[0] is undefined') });
    events.error({ layer: 'l2', operation: 'get', key: 'z', error: timeout('z') });
    expect(lines.map((line) => /^Cache failure \(([^)]+)\)/.exec(line)?.[1])).toEqual([
      'L2 get, CacheTimeoutError',
      'L2 set, CacheTimeoutError',
      'L2 get, Error',
      'L1 get, Error',
      'L2 serialize, CacheSerializationError',
      'key building, TypeError',
    ]);
  });

  it('adds causes the message does not already contain', () => {
    const cause = new CacheTimeoutError('Redis GET did not answer within 20 ms.', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') });
    events.error({ layer: 'l2', operation: 'get', key: 'a', error: new CacheLayerError('l2', 'get', 'a', cause) });
    expect(lines[0]).toContain('L2 get of "a" failed: Redis GET did not answer within 20 ms. (cause: connect ECONNREFUSED 127.0.0.1:1)');
  });

  it('logs what is counted at close and leaves no timer behind', () => {
    events.error({ layer: 'l2', operation: 'get', key: 'a', error: timeout('a') });
    events.error({ layer: 'l2', operation: 'get', key: 'b', error: timeout('b') });
    expect(vi.getTimerCount()).toBe(1);
    log.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(lines[1]).toMatch(/^Cache failure \(L2 get, CacheTimeoutError\): 1 more before shutdown; the last: L2 get of "b"/);
    events.error({ layer: 'l2', operation: 'get', key: 'c', error: timeout('c') });
    expect(lines).toHaveLength(2);
  });

  it('keeps a logger that throws away from the cache call that reported the failure', () => {
    const failing = new CacheEventBus();
    const quiet = new CacheFailureLog(failing.errors$, {
      warn: () => {
        throw new Error('log sink down');
      },
    });
    expect(() => failing.error({ layer: 'l2', operation: 'get', key: 'a', error: timeout('a') })).not.toThrow();
    quiet.close();
  });
});

describe('CacheFailureLog timers', () => {
  it('never keep the process alive', () => {
    const started: ReturnType<typeof setTimeout>[] = [];
    const realSetTimeout = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((...args: Parameters<typeof setTimeout>) => {
      const timer = realSetTimeout(...args);
      started.push(timer);
      return timer;
    }) as typeof setTimeout);
    const bus = new CacheEventBus();
    const log = new CacheFailureLog(bus.errors$, { warn: () => undefined });
    try {
      bus.error({ layer: 'l2', operation: 'get', key: 'a', error: timeout('a') });
    } finally {
      spy.mockRestore();
      log.close();
    }
    expect(started).toHaveLength(1);
    expect(started[0].hasRef()).toBe(false);
  });
});

describe('CacheEventBus.errors$', () => {
  it('carries error events only', () => {
    const bus = new CacheEventBus();
    const seen: string[] = [];
    const subscription = bus.errors$.subscribe((event) => seen.push(`${event.type}:${event.key ?? ''}`));
    bus.hit('l1', 'h');
    bus.miss('l2', 'm');
    bus.error({ layer: 'l2', operation: 'get', key: 'e', error: new Error('x') });
    expect(seen).toEqual(['error:e']);
    subscription.unsubscribe();
  });
});
