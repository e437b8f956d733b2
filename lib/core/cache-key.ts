import { createHash } from 'node:crypto';
import { INVALID_NAMESPACE, OPAQUE_INSTANCE, UNKEYABLE_ARGUMENT } from './messages.js';
import { LayeredCacheError } from './errors.js';

/** Keys longer than this are shortened to a prefix plus a SHA-256 digest, to stay cheap to store and compare. */
export const MAX_KEY_LENGTH = 256;

/**
 * Encodes method arguments as a stable string that is injective: arguments that differ never give the
 * same text. Strings are quoted, numbers/booleans/null/undefined/bigint/Dates are tagged, object keys
 * are sorted (so `{a, b}` and `{b, a}` match), Map and Set contents are sorted, array holes are marked,
 * class instances are tagged with their class and encoded by their state, and the argument list is
 * bracketed, so `("a:b")` and `("a", "b")` differ. Functions, symbols, circular structures and instances
 * whose state is hidden cannot be keyed and throw.
 */
export function encodeArguments(args: readonly unknown[]): string {
  if (args.length === 0) return '()';
  if (args.length === 1) {
    const only = args[0];
    // The hot case: one primitive id.
    if (typeof only === 'string') return `(${JSON.stringify(only)})`;
    if (typeof only === 'number' && !Object.is(only, -0)) return `(${only})`;
  }
  let out = '(';
  const seen = new Set<object>();
  for (let i = 0; i < args.length; i++) {
    if (i > 0) out += ',';
    out += encodeValue(args[i], seen, `argument ${i}`);
  }
  return out + ')';
}

function encodeValue(value: unknown, seen: Set<object>, path: string): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'undefined';
    case 'bigint':
      return `${value}n`;
    case 'object':
      return value === null ? 'null' : encodeObject(value, seen, path);
    default:
      throw new LayeredCacheError(UNKEYABLE_ARGUMENT(path, typeof value));
  }
}

function encodeObject(value: object, seen: Set<object>, path: string): string {
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`;
  if (seen.has(value)) throw new LayeredCacheError(UNKEYABLE_ARGUMENT(path, 'a circular reference'));
  seen.add(value);
  let out: string;
  if (Array.isArray(value)) {
    out = encodeItems(value, seen, path);
  } else if (value instanceof Map) {
    const pairs = [...value.entries()].map(([k, v]) => `${encodeValue(k, seen, `${path} key`)}=>${encodeValue(v, seen, `${path} value`)}`);
    out = '#Map{' + pairs.sort().join(',') + '}';
  } else if (value instanceof Set) {
    out = '#Set{' + [...value].map((item) => encodeValue(item, seen, `${path} item`)).sort().join(',') + '}';
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    out = proto === Object.prototype || proto === null ? encodeProperties('', value, seen, path) : encodeInstance(value, seen, path);
  }
  seen.delete(value);
  return out;
}

/** Items in order; a hole is marked, so that `[ , 1]`, `[undefined, 1]` and `[1]` stay apart. */
function encodeItems(items: readonly unknown[], seen: Set<object>, path: string): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ',';
    out += i in items ? encodeValue(items[i], seen, `${path}[${i}]`) : '#hole';
  }
  return out + ']';
}

/** Own enumerable properties, sorted by name, after `tag` (empty for plain objects). */
function encodeProperties(tag: string, value: object, seen: Set<object>, path: string): string {
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return tag + '{' + keys.map((k) => `${JSON.stringify(k)}:${encodeValue(record[k], seen, `${path}.${k}`)}`).join(',') + '}';
}

/**
 * An instance of a class, tagged with the class name. Its state is read where it lives: the primitive of
 * a boxed value, the source of a RegExp, the bytes of binary data, what `toJSON` returns (URL, Decimal,
 * ObjectId...), or else its own enumerable properties. An instance that shows none of these keeps its
 * state out of reach (private fields, getters on the prototype), so two different ones would share a key:
 * it is refused instead.
 */
function encodeInstance(value: object, seen: Set<object>, path: string): string {
  const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
  const tag = typeof name === 'string' && name !== '' ? name : 'Object';
  if (value instanceof Number || value instanceof String || value instanceof Boolean || value instanceof BigInt) {
    return `${tag}(${encodeValue(value.valueOf(), seen, path)})`;
  }
  if (value instanceof RegExp) return `${tag}(${JSON.stringify(String(value))})`;
  if (ArrayBuffer.isView(value)) return `${tag}<${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}>`;
  if (value instanceof ArrayBuffer) return `${tag}<${Buffer.from(value).toString('hex')}>`;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return `${tag}(${encodeValue(toJSON.call(value), seen, `${path}.toJSON()`)})`;
  if (Object.keys(value).length === 0) throw new LayeredCacheError(UNKEYABLE_ARGUMENT(path, OPAQUE_INSTANCE(tag)));
  return encodeProperties(tag, value, seen, path);
}

/** Marks a shortened key; keys that contain it are always shortened, so no key can pose as another's digest. */
const DIGEST_MARK = '…#';

/**
 * How much of a shortened key is kept readable, before the mark and the digest: a prefix of a key no longer
 * than this stays at the front of its stored form, so a clear by that prefix still finds the key.
 */
export const SHORTENED_HEAD = 64;

/** Length of a shortened key: its head, the mark and a base64url SHA-256 digest (43 characters). */
const SHORTENED_LENGTH = SHORTENED_HEAD + DIGEST_MARK.length + 43;

/**
 * Bounds a key's length: keys up to {@link MAX_KEY_LENGTH} pass unchanged; longer ones keep a readable
 * prefix and end in a SHA-256 digest of the whole key, so distinct long keys stay distinct. A key that
 * contains the digest mark (`…#`) is shortened whatever its length, so a short key can never equal the
 * shortened form of another key.
 */
export function boundKeyLength(key: string): string {
  return shortenKey(key, MAX_KEY_LENGTH);
}

/**
 * {@link boundKeyLength} with another limit (at least {@link SHORTENED_LENGTH}): injective for any one
 * limit, since an unshortened key never contains the mark and a shortened one always ends in the mark and
 * a digest of fixed length.
 */
function shortenKey(key: string, maxLength: number): string {
  // indexOf of a non-Latin-1 mark in a Latin-1 key returns at once, so ordinary keys pay nothing for it.
  if (key.length <= maxLength && key.indexOf(DIGEST_MARK) === -1) return key;
  const digest = createHash('sha256').update(key).digest('base64url');
  return `${key.slice(0, SHORTENED_HEAD)}${DIGEST_MARK}${digest}`;
}

/**
 * The namespace, checked: a non-empty string without `:`. The namespace ends at the first `:` of every
 * full key (`namespace:key`); a namespace that contained one would make namespace `a` with key `b:c` and
 * namespace `a:b` with key `c` the same entry, and `clear('a')` would delete namespace `a:b` too.
 * Throws a {@link LayeredCacheError} that names the namespace and how to fix it.
 *
 * @example
 * validNamespace('shop'); // 'shop'
 * validNamespace('shop:eu'); // throws: use 'shop-eu' or 'shop.eu'
 */
export function validNamespace(namespace: unknown): string {
  if (typeof namespace !== 'string') throw new LayeredCacheError(INVALID_NAMESPACE(namespace, 'is not a string'));
  if (namespace.trim() === '') throw new LayeredCacheError(INVALID_NAMESPACE(namespace, 'is empty'));
  if (namespace.includes(':')) throw new LayeredCacheError(INVALID_NAMESPACE(namespace, 'contains ":"'));
  return namespace;
}

/** How many keys a {@link NamespacedKeys} remembers. */
export const REMEMBERED_KEYS = 1024;

/**
 * Turns keys into the keys stored in the layers (`namespace:key`) and remembers up to
 * {@link REMEMBERED_KEYS} of them, those the cache found in L1. A long key is shortened as by
 * {@link boundKeyLength} after the `namespace:` prefix, which always stays whole at the front, so that
 * `clear(namespace)` finds every key of the namespace; the full key stays within {@link MAX_KEY_LENGTH}
 * unless the namespace itself is long. A key built per call (`product:${id}`) is a new string whose hash
 * V8 must compute before any map lookup; looking up the short key here and then the remembered full key,
 * whose hash is already known, costs a fraction of hashing the longer full key. Only L1 hits are
 * remembered, so that keys read once do not push out the hot ones.
 *
 * @example
 * const keys = new NamespacedKeys('shop');
 * const fullKey = keys.fullKey('product:42'); // 'shop:product:42'
 * keys.remember('product:42', fullKey); // after an L1 hit
 */
export class NamespacedKeys {
  /** What every full key starts with: `namespace:`, or `''` without a namespace. */
  readonly prefix: string;
  /** Longest key kept as it is after the prefix. */
  private readonly keyLimit: number;
  private readonly remembered = new Map<string, string>();

  /** `namespace` is checked by {@link validNamespace}; `''` means no namespace (keys are stored as they are). */
  constructor(namespace: string) {
    this.prefix = namespace === '' ? '' : `${validNamespace(namespace)}:`;
    this.keyLimit = Math.max(MAX_KEY_LENGTH - this.prefix.length, SHORTENED_LENGTH);
  }

  fullKey(key: string): string {
    // Without a namespace the key is its own full key: nothing longer to hash.
    if (this.prefix === '') return boundKeyLength(key);
    return this.remembered.get(key) ?? this.prefix + shortenKey(key, this.keyLimit);
  }

  /** Remembers the full key of `key`, which `fullKey` returned; a no-op without a namespace. */
  remember(key: string, fullKey: string): void {
    if (this.prefix === '' || this.remembered.has(key)) return;
    // Forgetting everything at once keeps this O(1); the keys in use come back on their next hit.
    if (this.remembered.size >= REMEMBERED_KEYS) this.remembered.clear();
    this.remembered.set(key, fullKey);
  }
}
