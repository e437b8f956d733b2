import { afterAll, afterEach, beforeAll, expect, type Mock, vi } from 'vitest';

/** What a watched promise has done so far. */
export type Observed = { state: 'pending' } | { state: 'resolved'; value: unknown } | { state: 'rejected'; error: unknown };

/** Watches a result (a promise, or a value already there) without awaiting it, so a test can assert it is still pending. */
export function observe(result: unknown): { readonly current: Observed } {
  const box: { current: Observed } = { current: { state: 'pending' } };
  Promise.resolve(result).then(
    (value) => (box.current = { state: 'resolved', value }),
    (error: unknown) => (box.current = { state: 'rejected', error }),
  );
  return box;
}

/** Lets every pending promise reaction run, and Node report unhandled rejections, before asserting. */
export const flush = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Fails each test of the file after which an unhandled rejection was reported (waiting `settleMs` for late
 * ones first). Returns the spy, for tests that assert on it mid-way.
 */
export function failOnUnhandledRejections(settleMs = 0): Mock {
  const unhandled = vi.fn();
  beforeAll(() => {
    process.on('unhandledRejection', unhandled);
  });
  afterAll(() => {
    process.off('unhandledRejection', unhandled);
  });
  afterEach(async () => {
    await flush(settleMs);
    expect(unhandled).not.toHaveBeenCalled();
    unhandled.mockClear();
  });
  return unhandled;
}
