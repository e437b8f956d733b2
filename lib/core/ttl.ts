import { INVALID_TTL } from './messages.js';
import { LayeredCacheError } from './errors.js';

/**
 * The longest time to live accepted, in milliseconds: 100 years (of 365 days). Every layer must keep an
 * expiry exactly: `Date.now() + ttl` stays far below `Number.MAX_SAFE_INTEGER` (and within the range of a
 * JavaScript `Date`) for centuries, and Redis `PX` takes it without overflowing its own clock arithmetic.
 * Pass 0 for entries that never expire.
 */
export const MAX_TTL_MS = 100 * 365 * 24 * 60 * 60 * 1000;

/**
 * A time to live in whole milliseconds, checked. A fractional TTL is rounded up (1500.5 -> 1501), so that a
 * tiny positive TTL never becomes 0, which means "never expires"; 0 stays 0. Negative numbers, NaN,
 * Infinity, values above {@link MAX_TTL_MS} and anything that is not a number throw a
 * {@link LayeredCacheError} that says what to pass.
 *
 * @example
 * validTtl(1500.5); // 1501
 * validTtl(0); // 0: the entry never expires
 * validTtl(-1); // throws LayeredCacheError
 */
export function validTtl(ttl: unknown): number {
  // The comparisons also refuse NaN and Infinity: both are false for NaN, and Infinity > MAX_TTL_MS.
  if (typeof ttl !== 'number' || !(ttl >= 0 && ttl <= MAX_TTL_MS)) throw new LayeredCacheError(INVALID_TTL(ttl));
  // `+ 0` turns -0 into 0, so that callers comparing with `=== 0` see no difference.
  return Math.ceil(ttl) + 0;
}
