import {
  ENVELOPE_INVALID_ENTRY_VERSION,
  ENVELOPE_INVALID_TIME,
  ENVELOPE_MALFORMED,
  ENVELOPE_UNKNOWN_FLAGS,
  ENVELOPE_UNKNOWN_VERSION,
  PAYLOAD_UNDECODABLE,
  SERIALIZER_RETURNED_NON_STRING,
} from './messages.js';
import type { CacheEntry } from './cache-entry.js';
import { CacheSerializationError, describeCause } from './errors.js';
import { JsonSerializer, type Serializer } from './serializer.js';

/**
 * The text a shared layer stores for one entry. Format version 2, for an entry with a version (every entry
 * the cache writes), and version 1, for one without:
 *
 * ```
 * 2|<version>|<createdAt>|<expiresAt>|<flags>|<payload>
 * 1|<createdAt>|<expiresAt>|<flags>|<payload>
 * 2|<version>|~                                          a delete mark (see encodeDeleteMark)
 * ```
 *
 * - `version`: the entry's version (see `VersionClock`): up to 32 digits, at a fixed place so
 *   that a Redis script can compare it with a write's without decoding the entry.
 *
 * - `createdAt`, `expiresAt`: epoch milliseconds as decimal digits; `expiresAt` is empty when the entry
 *   never expires.
 * - `flags`: decimal bit set of what follows. Bit 1 (`1`): the entry's tags come first, as
 *   `<length>|<JSON object of tag versions>`, then the payload. Others are not defined; a reader rejects
 *   bits it does not know rather than misread the payload.
 * - `payload`: the serializer's text for the value; it may contain `|`.
 *
 * The fields of a version are fixed and the header is read field by field, so adding one means a new
 * version.
 * A reader given a version it does not know throws `CacheSerializationError`, which the cache treats
 * as a miss.
 */
export const ENVELOPE_VERSION = 2;

const VERSION_PREFIX = '1|';
const VERSIONED_PREFIX = `${ENVELOPE_VERSION}|`;
const DELETE_MARK = '~';
const DELETE_MARK_CODE = 0x7e;
const ENTRY_VERSION = /^[0-9]{0,32}$/;
const MAX_ENTRY_VERSION_LENGTH = 32;
const SEPARATOR = '|';
const SEPARATOR_CODE = 0x7c;
const VERSION_CODE = 0x31;
const VERSIONED_CODE = 0x30 + ENVELOPE_VERSION;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const NO_FLAGS = 0;
const TAGS_FLAG = 1;
const KNOWN_FLAGS = TAGS_FLAG;
// 16 digits hold every epoch millisecond up to year 318857 and stay below Number.MAX_SAFE_INTEGER.
const MAX_DIGITS = 16;
// A version is a few digits; a longer first field means the text is not an envelope at all.
const MAX_VERSION_LENGTH = 8;

const defaultSerializer = new JsonSerializer();

// The payload remembered for one entry: the last one, as the write that prepared it usually reaches the
// shared layer in the same turn. One slot costs three assignments where a WeakMap entry costs more than
// serializing a small value again; a write it misses is serialized again, which gives the same text.
let rememberedEntry: CacheEntry | undefined;
let rememberedValue: unknown;
let rememberedSerializer: Serializer | undefined;
let rememberedText = '';

/**
 * Records that `payload` is what `serializer` writes for `entry.value`, so that {@link encodeEnvelope}
 * with that same serializer and that same entry object uses it instead of serializing the value again.
 * For a value serialized before any layer was written (to refuse it in every layer when it cannot be
 * stored). Only the last remembered entry is kept, until it is encoded once: others are serialized as
 * usual (to the same text). Returns `entry`.
 *
 * @example
 * const { payload, l1Value } = prepareForCache(value, serializer);
 * const entry = rememberPayload(createCacheEntry(l1Value, ttl), serializer, payload);
 * encodeEnvelope(entry, serializer); // serializes nothing: '1|…|…|0|' + payload
 */
export function rememberPayload<E extends CacheEntry>(entry: E, serializer: Serializer, payload: string): E {
  rememberedEntry = entry;
  rememberedValue = entry.value;
  rememberedSerializer = serializer;
  rememberedText = payload;
  return entry;
}

/**
 * The length of the text {@link rememberPayload} keeps for `entry`, when `entry` is the one it was kept for:
 * an in-process layer that counts bytes measures the entry the cache just made with it, without a property
 * on every entry (which would cost each one a slot) and without serializing it again.
 */
export function rememberedPayloadLength(entry: CacheEntry): number | undefined {
  return entry === rememberedEntry && entry.value === rememberedValue ? rememberedText?.length : undefined;
}

/**
 * Encodes an entry for a shared layer. Throws `CacheSerializationError` when the value cannot be
 * serialized or a time is not whole epoch milliseconds.
 *
 * @example
 * encodeEnvelope(createCacheEntry({ id: 1 }, 60_000)); // '1|1700000000000|1700000060000|0|{"id":1}'
 */
export function encodeEnvelope(entry: CacheEntry, serializer: Serializer = defaultSerializer): string {
  let payload: unknown;
  if (entry === rememberedEntry && serializer === rememberedSerializer && entry.value === rememberedValue) {
    payload = rememberedText;
    // Used once: the slot then no longer holds on to the value.
    rememberedEntry = undefined;
    rememberedValue = undefined;
  } else {
    payload = serializer.serialize(entry.value);
  }
  if (typeof payload !== 'string') throw new CacheSerializationError(SERIALIZER_RETURNED_NON_STRING(typeof payload));
  return envelopeHeader(entry) + payload;
}

/**
 * The longest header {@link envelopeHeader} writes for an entry without tags: format version, a 32-digit
 * version, two 16-digit times, flags and separators.
 */
export const MAX_UNTAGGED_HEADER_LENGTH = 71;

/**
 * What {@link encodeEnvelope} writes before the value's payload: format version, entry version, times,
 * flags and tags (ASCII, except for tags named with other characters). Throws `CacheSerializationError`
 * for a time that is not whole epoch milliseconds or a version the format cannot hold.
 *
 * @example
 * envelopeHeader(createCacheEntry({ id: 1 }, 60_000)); // '1|1700000000000|1700000060000|0|'
 */
export function envelopeHeader(entry: CacheEntry): string {
  let times = headerOf(entry.createdAt, entry.expiresAt);
  if (entry.tags !== undefined) {
    // The header ends with `0|`, the flags of an entry without tags.
    const tags = JSON.stringify(entry.tags);
    times = `${times.slice(0, -2)}${TAGS_FLAG}|${tags.length}|${tags}`;
  }
  const version = entry.version;
  if (version === undefined) return times;
  if (!ENTRY_VERSION.test(version)) throw new CacheSerializationError(ENVELOPE_INVALID_ENTRY_VERSION(version));
  // `times` starts with the version 1 prefix; version 2 puts the entry's version between them.
  return VERSIONED_PREFIX + version + times.slice(1);
}

/**
 * The text that stands for a deleted key for a while, so that an older write of it that arrives late (a
 * replay, a slow instance) is refused instead of bringing the value back. It reads as a miss.
 *
 * @example
 * encodeDeleteMark('17000000000000000482913'); // '2|17000000000000000482913|~'
 */
export function encodeDeleteMark(version: string): string {
  if (!ENTRY_VERSION.test(version)) throw new CacheSerializationError(ENVELOPE_INVALID_ENTRY_VERSION(version));
  return `${VERSIONED_PREFIX}${version}${SEPARATOR}${DELETE_MARK}`;
}

// The header of the last entry encoded: the writes of a burst share their times, so most reuse it.
let lastCreatedAt = Number.NaN;
let lastExpiresAt: number | null = Number.NaN;
let lastHeader = '';

/** `1|<createdAt>|<expiresAt>|0|` for these times, checked; throws `CacheSerializationError` for an invalid time. */
function headerOf(createdAt: number, expiresAt: number | null): string {
  if (createdAt === lastCreatedAt && expiresAt === lastExpiresAt) return lastHeader;
  assertTime('createdAt', createdAt);
  if (expiresAt !== null) assertTime('expiresAt', expiresAt);
  const header = `${VERSION_PREFIX}${timeText(createdAt)}|${expiresAt === null ? '' : timeText(expiresAt)}|${NO_FLAGS}|`;
  lastCreatedAt = createdAt;
  lastExpiresAt = expiresAt;
  lastHeader = header;
  return header;
}

/** Integers below this are small integers to V8, which turns them into text several times faster than larger ones. */
const SMALL_INTEGER_LIMIT = 2 ** 30;
const BILLION = 1e9;
const LOW_DIGITS_PADDING = '000000000';

/**
 * The decimal digits of a time (a safe integer, checked before). Epoch milliseconds are beyond V8's small
 * integers, so they are written as two parts that are not: the billions, then the rest on nine digits.
 */
function timeText(time: number): string {
  if (time < SMALL_INTEGER_LIMIT) return `${time}`;
  let high = Math.floor(time / BILLION);
  let low = time - high * BILLION;
  // The division may round across a billion for the largest times; the remainder says which way.
  if (low < 0) {
    high--;
    low += BILLION;
  } else if (low >= BILLION) {
    high++;
    low -= BILLION;
  }
  const lowText = `${low}`;
  return `${high}${LOW_DIGITS_PADDING.slice(lowText.length)}${lowText}`;
}

/**
 * Decodes text written by {@link encodeEnvelope}. Throws `CacheSerializationError` for an unknown
 * version, a truncated or malformed header, unknown flags, a delete mark, or a payload the serializer
 * cannot read.
 *
 * @example
 * decodeEnvelope('1|1700000000000||0|"hi"'); // { value: 'hi', createdAt: 1700000000000, expiresAt: null }
 */
export function decodeEnvelope(text: string, serializer: Serializer = defaultSerializer): CacheEntry {
  const entry = decodeStoredText(text, serializer);
  if (entry === undefined) throw malformed('it is a delete mark, not an entry');
  return entry;
}

/**
 * What a shared layer holds for a key, decoded: the entry, or `undefined` for a delete mark (see
 * {@link encodeDeleteMark}), which reads as a miss. Throws as {@link decodeEnvelope} does otherwise.
 */
export function decodeStoredText(text: string, serializer: Serializer = defaultSerializer): CacheEntry | undefined {
  const first = text.charCodeAt(0);
  if (first === VERSION_CODE && text.charCodeAt(1) === SEPARATOR_CODE) return decodeTimesAndPayload(text, VERSION_PREFIX.length, undefined, serializer);
  if (first !== VERSIONED_CODE || text.charCodeAt(1) !== SEPARATOR_CODE) return decodeCheckedEnvelope(text, VERSION_PREFIX.length, undefined, serializer);
  const versionEnd = text.indexOf(SEPARATOR, VERSIONED_PREFIX.length);
  if (versionEnd === -1 || versionEnd - VERSIONED_PREFIX.length > MAX_ENTRY_VERSION_LENGTH) throw malformed('the version field is cut off or too long');
  const version = text.slice(VERSIONED_PREFIX.length, versionEnd);
  if (!ENTRY_VERSION.test(version)) throw malformed('the version field is not digits');
  if (versionEnd === text.length - 2 && text.charCodeAt(versionEnd + 1) === DELETE_MARK_CODE) return undefined;
  return decodeTimesAndPayload(text, versionEnd + 1, version === '' ? undefined : version, serializer);
}

/**
 * Reads `<createdAt>|<expiresAt or nothing>|0|<payload>` from `start` in one pass, the shape this library
 * writes; anything else goes to the field-by-field reader, which says what is wrong with it.
 */
function decodeTimesAndPayload(text: string, start: number, version: string | undefined, serializer: Serializer): CacheEntry {
  let index = start;
  let createdAt = 0;
  let code = text.charCodeAt(index);
  while (code >= DIGIT_0 && code <= DIGIT_9) {
    createdAt = createdAt * 10 + code - DIGIT_0;
    code = text.charCodeAt(++index);
  }
  const createdAtDigits = index - start;
  if (code !== SEPARATOR_CODE || createdAtDigits === 0 || createdAtDigits > MAX_DIGITS) return decodeCheckedEnvelope(text, start, version, serializer);
  const expiresAtStart = ++index;
  let expiresAt = 0;
  code = text.charCodeAt(index);
  while (code >= DIGIT_0 && code <= DIGIT_9) {
    expiresAt = expiresAt * 10 + code - DIGIT_0;
    code = text.charCodeAt(++index);
  }
  const expiresAtDigits = index - expiresAtStart;
  const wellFormed =
    code === SEPARATOR_CODE &&
    expiresAtDigits <= MAX_DIGITS &&
    text.charCodeAt(index + 1) === DIGIT_0 &&
    text.charCodeAt(index + 2) === SEPARATOR_CODE &&
    createdAt <= Number.MAX_SAFE_INTEGER &&
    expiresAt <= Number.MAX_SAFE_INTEGER;
  if (!wellFormed) return decodeCheckedEnvelope(text, start, version, serializer);
  return entryOf(decodePayload(text.slice(index + 3), serializer), createdAt, expiresAtDigits === 0 ? null : expiresAt, version);
}

/** Reads the header field by field from `start` (after the format version, and the entry version in version 2), throwing `CacheSerializationError` that says what is wrong. */
function decodeCheckedEnvelope(text: string, start: number, version: string | undefined, serializer: Serializer): CacheEntry {
  if (!text.startsWith(VERSION_PREFIX) && !text.startsWith(VERSIONED_PREFIX)) throw versionError(text);

  const createdAtEnd = nextSeparator(text, start, 'createdAt');
  const createdAt = parseTime(text, start, createdAtEnd, 'createdAt');
  const expiresAtEnd = nextSeparator(text, createdAtEnd + 1, 'expiresAt');
  const expiresAt = expiresAtEnd === createdAtEnd + 1 ? null : parseTime(text, createdAtEnd + 1, expiresAtEnd, 'expiresAt');
  const flagsEnd = nextSeparator(text, expiresAtEnd + 1, 'flags');
  const flags = parseDigits(text, expiresAtEnd + 1, flagsEnd);
  if (Number.isNaN(flags)) throw malformed('flags is not a number');
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new CacheSerializationError(ENVELOPE_UNKNOWN_FLAGS(flags));
  if ((flags & TAGS_FLAG) === 0) return entryOf(decodePayload(text.slice(flagsEnd + 1), serializer), createdAt, expiresAt, version);

  const lengthEnd = nextSeparator(text, flagsEnd + 1, 'tags length');
  const length = parseDigits(text, flagsEnd + 1, lengthEnd);
  if (Number.isNaN(length) || lengthEnd + 1 + length > text.length) throw malformed('the tags are cut off');
  const tags = parseTags(text.slice(lengthEnd + 1, lengthEnd + 1 + length));
  const entry = entryOf(decodePayload(text.slice(lengthEnd + 1 + length), serializer), createdAt, expiresAt, version);
  return { ...entry, tags };
}

/** The tag versions of an envelope: a JSON object of strings. */
function parseTags(text: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw malformed('the tags are not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((version) => typeof version === 'string')) {
    throw malformed('the tags are not an object of versions');
  }
  return parsed as Record<string, string>;
}

function entryOf(value: unknown, createdAt: number, expiresAt: number | null, version: string | undefined): CacheEntry {
  return version === undefined ? { value, createdAt, expiresAt } : { value, createdAt, expiresAt, version };
}

function decodePayload(payload: string, serializer: Serializer): unknown {
  try {
    return serializer.deserialize(payload);
  } catch (error) {
    if (error instanceof CacheSerializationError) throw error;
    throw new CacheSerializationError(PAYLOAD_UNDECODABLE(describeCause(error)), { cause: error });
  }
}

function nextSeparator(text: string, from: number, field: string): number {
  const index = text.indexOf(SEPARATOR, from);
  if (index === -1 || index - from > MAX_DIGITS) {
    throw malformed(index === -1 ? `the header is cut off at ${field}` : `${field} is longer than ${MAX_DIGITS} digits`);
  }
  return index;
}

function parseTime(text: string, start: number, end: number, field: string): number {
  const value = parseDigits(text, start, end);
  if (Number.isNaN(value)) throw malformed(`${field} is not a whole number of milliseconds`);
  return value;
}

/** Decimal digits in `text[start, end)` as a number; NaN when empty or when anything else is there. */
function parseDigits(text: string, start: number, end: number): number {
  if (end <= start || end - start > MAX_DIGITS) return Number.NaN;
  let value = 0;
  for (let index = start; index < end; index++) {
    const digit = text.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return value <= Number.MAX_SAFE_INTEGER ? value : Number.NaN;
}

function versionError(text: string): CacheSerializationError {
  const end = text.indexOf(SEPARATOR);
  const version = end === -1 ? '' : text.slice(0, end);
  if (end > 0 && end <= MAX_VERSION_LENGTH && /^\d+$/.test(version)) {
    return new CacheSerializationError(ENVELOPE_UNKNOWN_VERSION(version, `1 and ${ENVELOPE_VERSION}`));
  }
  return malformed(text.length === 0 ? 'the value is empty' : 'it does not start with a format version');
}

function malformed(problem: string): CacheSerializationError {
  return new CacheSerializationError(ENVELOPE_MALFORMED(problem));
}

function assertTime(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CacheSerializationError(ENVELOPE_INVALID_TIME(`entry.${field}`, value));
  }
}
