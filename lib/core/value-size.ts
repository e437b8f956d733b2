import type { CacheEntry } from './cache-entry.js';
import { MAX_UNTAGGED_HEADER_LENGTH, envelopeHeader } from './envelope.js';
import { CacheValueTooLargeError, LayeredCacheError } from './errors.js';
import { INVALID_MAX_VALUE_BYTES, VALUE_TOO_LARGE_TO_CACHE, VALUE_TOO_LARGE_TO_READ, VALUE_TOO_LARGE_TO_STORE } from './messages.js';

/**
 * Default `maxValueBytes`: 8 MiB of entry text in the shared layer. A value of 1 MB (a large page of
 * results) passes with room to spare; one of 10 MB is refused unless the limit is raised, because every L2
 * hit of it blocks the event loop for as long as parsing it takes (about 50 ms on a 2-core machine) and
 * holds Redis's single thread while it is sent.
 */
export const DEFAULT_MAX_VALUE_BYTES = 8 * 1024 * 1024;

/** The highest `maxValueBytes`: Redis's default `proto-max-bulk-len`, about V8's longest string. */
export const MAX_VALUE_BYTES_CEILING = 512 * 1024 * 1024;

/**
 * `value` as a `maxValueBytes` option of `owner`: a whole number of bytes from 1 to 512 MiB. Throws
 * `LayeredCacheError` otherwise.
 */
export function validMaxValueBytes(value: unknown, owner: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_VALUE_BYTES_CEILING) {
    throw new LayeredCacheError(INVALID_MAX_VALUE_BYTES(owner, value));
  }
  return value;
}

/**
 * Throws `CacheValueTooLargeError` when the text `encodeEnvelope` writes for `entry`, whose value's text is
 * `payload`, is more than `maxValueBytes` bytes of UTF-8. UTF-8 takes at most three bytes per UTF-16 code
 * unit, so bytes are counted only for text within a factor of three of the limit (and the header only for
 * an entry with tags): for most writes this is two comparisons.
 */
export function assertEntryFits(key: string, entry: CacheEntry, payload: string, maxValueBytes: number): void {
  const header = entry.tags === undefined ? MAX_UNTAGGED_HEADER_LENGTH : Buffer.byteLength(envelopeHeader(entry));
  if (payload.length * 3 + header <= maxValueBytes) return;
  const bytes = (entry.tags === undefined ? envelopeHeader(entry).length : header) + Buffer.byteLength(payload);
  if (bytes > maxValueBytes) throw new CacheValueTooLargeError(VALUE_TOO_LARGE_TO_CACHE(key, bytes, maxValueBytes), { key, bytes, maxValueBytes });
}

/**
 * Throws `CacheValueTooLargeError` when `text`, an entry's text about to be written to a shared layer under
 * `key`, is longer than {@link assertReplyFits} lets it be read back: a store's own check of what it is
 * given, which costs nothing. A `LayeredCache` has refused larger values before, counting their bytes.
 */
export function assertTextFits(key: string, text: string, maxValueBytes: number): void {
  if (text.length > maxValueBytes) throw new CacheValueTooLargeError(VALUE_TOO_LARGE_TO_STORE(key, text.length, maxValueBytes), { key, bytes: text.length, maxValueBytes });
}

/**
 * Throws `CacheValueTooLargeError` when `reply`, a shared layer's answer for `key` (a string, or a Buffer
 * from a client set to return them), is longer than `maxValueBytes`; before it is converted or parsed. A
 * Buffer is measured in bytes, a string in UTF-16 code units, at most its bytes and equal to them for
 * ASCII: counting a string's bytes would cost a pass over it, and every text a cache with this limit writes
 * passes either way. Other replies are left to the decoder, which refuses them.
 */
export function assertReplyFits(key: string, reply: unknown, maxValueBytes: number): void {
  const length = typeof reply === 'string' || reply instanceof Uint8Array ? reply.length : 0;
  if (length > maxValueBytes) throw new CacheValueTooLargeError(VALUE_TOO_LARGE_TO_READ(key, length, maxValueBytes), { key, bytes: length, maxValueBytes });
}
