import { INVALID_TTL } from './messages.js';
import { LayeredCacheError } from './errors.js';

/**
 * The longest time to live accepted, in milliseconds: 100 years (of 365 days). Every layer must keep an
 * expiry exactly: `Date.now() + ttl` stays far below `Number.MAX_SAFE_INTEGER` (and within the range of a
 * JavaScript `Date`) for centuries, and Redis `PX` takes it without overflowing its own clock arithmetic.
 * Pass 0 for entries that never expire.
 */
export const MAX_TTL_MS = 100 * 365 * 24 * 60 * 60 * 1000;

/** The units a {@link Duration} string may end with. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

/**
 * A span of time: a number of **milliseconds**, or a string that names its unit, so that seconds cannot be
 * mistaken for milliseconds: `'250ms'`, `'30s'`, `'5m'`, `'2h'`, `'1d'` (`'1.5s'` is 1 500 ms).
 *
 * @example
 * LayeredCacheModule.forRoot({ ttl: '10m' }); // the same as ttl: 600_000
 */
export type Duration = number | `${number}${DurationUnit}`;

const UNIT_MS: Readonly<Record<DurationUnit, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_TEXT = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Milliseconds of a {@link Duration} string, or `undefined` when the text is not one. */
function durationTextMs(text: string): number | undefined {
  const match = DURATION_TEXT.exec(text);
  return match === null ? undefined : Number(match[1]) * UNIT_MS[match[2] as DurationUnit];
}

/**
 * Milliseconds of a duration option: a number is milliseconds already; a string must be a {@link Duration}.
 * Anything else is returned as it is, for the caller's own check to refuse with its own message.
 */
export function durationMs(value: unknown): unknown {
  return typeof value === 'string' ? (durationTextMs(value) ?? value) : value;
}

/**
 * A time to live in whole milliseconds, checked; a {@link Duration} string is converted first. A fractional TTL is rounded up (1500.5 -> 1501), so that a
 * tiny positive TTL never becomes 0, which means "never expires"; 0 stays 0. Negative numbers, NaN,
 * Infinity, values above {@link MAX_TTL_MS} and anything that is not a number throw a
 * {@link LayeredCacheError} that says what to pass.
 *
 * @example
 * validTtl(1500.5); // 1501
 * validTtl('30s'); // 30000
 * validTtl(0); // 0: the entry never expires
 * validTtl(-1); // throws LayeredCacheError
 */
export function validTtl(value: unknown): number {
  const ttl = durationMs(value);
  // The comparisons also refuse NaN and Infinity: both are false for NaN, and Infinity > MAX_TTL_MS.
  if (typeof ttl !== 'number' || !(ttl >= 0 && ttl <= MAX_TTL_MS)) throw new LayeredCacheError(INVALID_TTL(value));
  // `+ 0` turns -0 into 0, so that callers comparing with `=== 0` see no difference.
  return Math.ceil(ttl) + 0;
}
