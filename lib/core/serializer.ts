import {
  INVALID_MAX_DEPTH,
  PAYLOAD_UNDECODABLE,
  SERIALIZATION_FAILED,
  UNSERIALIZABLE_HIDDEN_STATE,
  UNSERIALIZABLE_VALUE,
  VALUE_TOO_DEEP_TO_READ,
  VALUE_TOO_DEEP_TO_STORE,
  type UnserializableKind,
} from './messages.js';
import { CacheSerializationError, LayeredCacheError, describeCause } from './errors.js';
import { NESTED_TOO_DEEP, scanJson } from './json-scan.js';

/**
 * Turns cached values into text for a shared layer and back. `serialize` throws
 * `CacheSerializationError` for values it cannot store faithfully; `deserialize` throws it for text it
 * cannot read.
 *
 * With a serializer, the cache keeps in its in-process layer plain JSON data as it is (so `deserialize`
 * must give that back unchanged) and anything else as the serializer's own round trip of it, so that
 * both layers answer alike.
 *
 * @example
 * const serializer: Serializer = { serialize: (value) => JSON.stringify(value), deserialize: (text) => JSON.parse(text) };
 */
export interface Serializer {
  serialize(value: unknown): string;
  deserialize(text: string): unknown;
}

/**
 * The default serializer: JSON, plus `Date`, `Buffer` and `Uint8Array` values anywhere in the value.
 * A `Buffer` comes back as a `Buffer` and a `Uint8Array` as a `Uint8Array` with the same bytes (stored
 * as base64).
 *
 * It refuses (with the path of the offending part, e.g. `value.items[2].id is a BigInt`) what JSON
 * would silently change: BigInt, functions, symbols, Map, Set, WeakMap, WeakSet, RegExp, other binary
 * data (typed arrays other than `Uint8Array`, `ArrayBuffer`, `DataView`, subclasses of `Uint8Array`
 * other than `Buffer`: their element type, endianness or class would not survive), promises, NaN and
 * Infinity, `undefined` inside arrays, circular references, and class instances whose state it cannot
 * see (no own enumerable property and no `toJSON`, such as objects holding only `#private` fields).
 * `undefined` object properties are dropped, as JSON does. Objects keep their own enumerable
 * properties, not their class.
 *
 * Arrays and objects nested more than `maxDepth` levels (default {@link DEFAULT_MAX_DEPTH}) are refused
 * both ways: `serialize` throws `CacheSerializationError` rather than write what could not be read back,
 * and `deserialize` throws it for such text before parsing it, after a scan that costs a fraction of the
 * parse and does not recurse. A value that deep would overflow the stack of the recursive code that handles
 * it next (JSON.stringify of an HTTP response, structuredClone).
 *
 * Text with no tagged value in it is plain JSON and is read with a bare `JSON.parse`; only text that
 * starts with `~` (written when the value holds a Date, binary data, or an object that looks like a tag)
 * is walked after parsing to revive them, without recursion, and only until every tag is found.
 *
 * @example
 * const serializer = new JsonSerializer();
 * const text = serializer.serialize({ at: new Date(0), tags: ['a'] }); // '~{"at":{"$date":"1970-01-01T00:00:00.000Z"},"tags":["a"]}'
 * serializer.deserialize(text); // { at: Date(1970-01-01T00:00:00.000Z), tags: ['a'] }
 * serializer.serialize({ avatar: Buffer.from('hi') }); // '~{"avatar":{"$bin":["Buffer","aGk="]}}'
 * new JsonSerializer({ maxDepth: 2_000 }); // for values nested up to 2 000 levels
 */
export class JsonSerializer implements Serializer {
  /** Most levels of arrays and objects within each other that a value may have, counted in its JSON text. */
  readonly maxDepth: number;

  constructor(options: JsonSerializerOptions = {}) {
    this.maxDepth = validMaxDepth(options.maxDepth ?? DEFAULT_MAX_DEPTH);
  }

  /**
   * JSON text of `value`, prefixed with `~` when it holds tagged values; throws `CacheSerializationError`
   * for what it refuses, values nested deeper than `maxDepth` included.
   */
  serialize(value: unknown): string {
    // Most cached values are plain data: checking that in JS and calling JSON.stringify without a replacer
    // is about twice as fast as a replacer, which JSON calls back for every node. Plain data is at most
    // PLAIN_DATA_MAX_DEPTH levels deep, which no maxDepth is below.
    if (isPlainData(value, 0)) return JSON.stringify(value);
    const state: EncodeState = { tagged: false };
    let json: string | undefined;
    try {
      json = JSON.stringify(value, createReplacer(state));
    } catch (error) {
      throw describeFailure(value, error, this.maxDepth);
    }
    if (json === undefined) throw new CacheSerializationError(UNSERIALIZABLE_VALUE(ROOT_PATH, 'undefined'));
    // Text shorter than maxDepth characters cannot open more than maxDepth levels.
    if (json.length > this.maxDepth && scanJson(json, 0, this.maxDepth) === NESTED_TOO_DEEP) throw new CacheSerializationError(VALUE_TOO_DEEP_TO_STORE(this.maxDepth));
    return state.tagged ? TAGGED_MARKER + json : json;
  }

  /**
   * The value `serialize` encoded; throws `CacheSerializationError` for text that is not valid JSON, or
   * that nests arrays and objects deeper than `maxDepth` (checked before parsing).
   */
  deserialize(text: string): unknown {
    const tagged = text.charCodeAt(0) === TAGGED_MARKER_CODE;
    const start = tagged ? 1 : 0;
    // How many keys may be tags; unknown (every object is looked at) when the text was too short to scan.
    let tagKeys = Number.POSITIVE_INFINITY;
    if (text.length - start > this.maxDepth) {
      tagKeys = scanJson(text, start, this.maxDepth);
      if (tagKeys === NESTED_TOO_DEEP) throw new CacheSerializationError(VALUE_TOO_DEEP_TO_READ(this.maxDepth));
    }
    let parsed: unknown;
    try {
      // A slice of a long string shares its characters: nothing is copied.
      parsed = JSON.parse(tagged ? text.slice(1) : text);
    } catch (error) {
      throw new CacheSerializationError(PAYLOAD_UNDECODABLE(describeCause(error)), { cause: error });
    }
    return tagged && tagKeys > 0 ? reviveTags(parsed, tagKeys) : parsed;
  }
}

/**
 * Options of {@link JsonSerializer}.
 *
 * @example
 * const options: JsonSerializerOptions = { maxDepth: 2_000 };
 */
export interface JsonSerializerOptions {
  /**
   * Most levels of arrays and objects within each other a value may have, counted in its JSON text (a
   * Date adds one level there, a Buffer two). Default {@link DEFAULT_MAX_DEPTH}; from 32 to 100 000.
   */
  readonly maxDepth?: number;
}

/**
 * Default `maxDepth` of {@link JsonSerializer}: 1 000 levels. Real data is rarely nested more than a few
 * dozen levels, while on Node's default stack JSON.stringify overflows at about 4 000 and structuredClone at
 * about 3 300, less when called from deep inside a request handler: 1 000 leaves room for both.
 */
export const DEFAULT_MAX_DEPTH = 1000;
/** Plain data is checked this deep (see `isPlainData`), so no `maxDepth` may be lower. */
const MIN_MAX_DEPTH = 32;
const MAX_MAX_DEPTH = 100_000;

function validMaxDepth(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_MAX_DEPTH || value > MAX_MAX_DEPTH) {
    throw new LayeredCacheError(INVALID_MAX_DEPTH(value));
  }
  return value;
}

/**
 * What `JsonSerializer.serialize` writes for `value` when it is plain data (strings, finite numbers,
 * booleans, null, arrays and plain objects, no tag-shaped keys), else `undefined`: for callers that also
 * need to know the value is plain, without walking it twice.
 *
 * @example
 * plainJsonText({ a: [1] }); // '{"a":[1]}'
 * plainJsonText({ at: new Date(0) }); // undefined
 */
export function plainJsonText(value: unknown): string | undefined {
  return isPlainData(value, 0) ? JSON.stringify(value) : undefined;
}

// No JSON text starts with `~`, so the marker cannot be confused with a plain payload.
const TAGGED_MARKER = '~';
const TAGGED_MARKER_CODE = 0x7e;
const ROOT_PATH = 'value';

// Tags are single-key objects. A user object that has exactly one of these keys is escaped as
// `{"$obj": [key, value]}` so that reading it back cannot mistake it for a tag.
const DATE_TAG = '$date';
const ESCAPE_TAG = '$obj';
// `{"$bin": [kind, base64]}`: one tag for every binary kind keeps the plain-data check at three reads per object.
const BINARY_TAG = '$bin';
const BUFFER_KIND = 'Buffer';
const BYTES_KIND = 'Uint8Array';

type BinaryKind = typeof BUFFER_KIND | typeof BYTES_KIND;

/** The binary kind this serializer round-trips for `object`, by exact prototype (a subclass would come back as its base). */
function binaryKind(object: object): BinaryKind | undefined {
  const proto: unknown = Object.getPrototypeOf(object);
  if (proto === Buffer.prototype) return BUFFER_KIND;
  if (proto === Uint8Array.prototype) return BYTES_KIND;
  return undefined;
}

function encodeBinary(kind: BinaryKind, bytes: Uint8Array): { [BINARY_TAG]: [BinaryKind, string] } {
  // A Buffer view over the same memory: no copy, and only the view's own bytes, not its whole ArrayBuffer.
  return { [BINARY_TAG]: [kind, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')] };
}

function decodeBinary(kind: unknown, base64: unknown): Buffer | Uint8Array | undefined {
  if (typeof base64 !== 'string') return undefined;
  if (kind === BUFFER_KIND) return Buffer.from(base64, 'base64');
  // A copy: small Buffers share a pooled ArrayBuffer, which a Uint8Array's `buffer` must not expose.
  if (kind === BYTES_KIND) return new Uint8Array(Buffer.from(base64, 'base64'));
  return undefined;
}

/** True for a class instance JSON would store as `{}` although it may hold state (`#private` fields, accessors). */
function hasHiddenState(object: object): boolean {
  return typeof (object as { toJSON?: unknown }).toJSON !== 'function' && Object.keys(object).length === 0;
}

interface EncodeState {
  tagged: boolean;
}

type Holder = Record<string, unknown>;

/** Thrown inside the replacer; `describeFailure` walks the value again to say what and where. */
const REFUSED = new Error('refused');

function createReplacer(state: EncodeState): (this: Holder, key: string, value: unknown) => unknown {
  return function replacer(this: Holder, key: string, value: unknown): unknown {
    // `value` has already been through toJSON (a Date arrives as a string), so look at the raw one.
    const raw = this[key];
    switch (typeof raw) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        if (Number.isFinite(raw)) return value;
        throw REFUSED;
      case 'undefined':
        if (Array.isArray(this)) throw REFUSED;
        return value;
      case 'object': {
        if (raw === null || Array.isArray(raw)) return value;
        if (raw instanceof Date) {
          state.tagged = true;
          return { [DATE_TAG]: Number.isNaN(raw.getTime()) ? null : raw.toISOString() };
        }
        const proto: unknown = Object.getPrototypeOf(raw);
        if (proto !== Object.prototype && proto !== null) {
          const binary = binaryKind(raw);
          if (binary !== undefined) {
            state.tagged = true;
            return encodeBinary(binary, raw as Uint8Array);
          }
          if (refusedObjectKind(raw) !== undefined || hasHiddenState(raw)) throw REFUSED;
        }
        // `value` differs from `raw` when a toJSON produced it; JSON walks into it without asking the replacer again.
        return escapeReservedKey(value, state);
      }
      default:
        throw REFUSED;
    }
  };
}

/** Deeper values take the replacer path, which also detects cycles. At most {@link MIN_MAX_DEPTH}. */
const PLAIN_DATA_MAX_DEPTH = 32;

/**
 * True when plain `JSON.stringify` encodes `value` exactly as the replacer would: strings, finite numbers,
 * booleans, null, arrays without `undefined`, and plain objects without `toJSON` or a reserved tag key.
 */
function isPlainData(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= PLAIN_DATA_MAX_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined || !isPlainData(item, depth + 1)) return false;
        }
        return true;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      const object = value as Holder;
      if (object[DATE_TAG] !== undefined || object[ESCAPE_TAG] !== undefined || object[BINARY_TAG] !== undefined || typeof object.toJSON === 'function') return false;
      for (const key in object) {
        const property = object[key];
        if (property !== undefined && !isPlainData(property, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

function escapeReservedKey(value: unknown, state: EncodeState): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const object = value as Holder;
  // Three property reads keep the common case cheap; keys are only counted when a reserved one exists.
  if (object[DATE_TAG] === undefined && object[ESCAPE_TAG] === undefined && object[BINARY_TAG] === undefined) return value;
  const keys = Object.keys(object);
  if (keys.length !== 1 || !isReservedKey(keys[0])) return value;
  state.tagged = true;
  return { [ESCAPE_TAG]: [keys[0], object[keys[0]]] };
}

function isReservedKey(key: string | undefined): boolean {
  return key === DATE_TAG || key === ESCAPE_TAG || key === BINARY_TAG;
}

/**
 * The value a tag object stands for (a Date, binary data, or the user object an escape kept), or the object
 * itself when it is not a tag. Only single-key objects can be tags; their contents are strings, so whether
 * an object is a tag never depends on what is inside it, and objects can be revived in any order.
 */
function revived(object: Holder): unknown {
  const date = object[DATE_TAG];
  const escaped = object[ESCAPE_TAG];
  const binary = object[BINARY_TAG];
  if (date === undefined && escaped === undefined && binary === undefined) return object;
  if (Object.keys(object).length !== 1) return object;
  if (typeof date === 'string') return new Date(date);
  if (date === null) return new Date(Number.NaN);
  if (Array.isArray(binary) && binary.length === 2) return decodeBinary(binary[0], binary[1]) ?? object;
  if (Array.isArray(escaped) && escaped.length === 2) {
    // Literal keys from the fixed set, so this can never create a `__proto__` setter call.
    switch (escaped[0]) {
      case DATE_TAG:
        return { [DATE_TAG]: escaped[1] };
      case ESCAPE_TAG:
        return { [ESCAPE_TAG]: escaped[1] };
      case BINARY_TAG:
        return { [BINARY_TAG]: escaped[1] };
    }
  }
  return object;
}

/**
 * Replaces, in what `JSON.parse` made of tagged text, every tag object with the value it stands for, as a
 * reviver would, but without recursion and without a call back for every value: objects are visited with
 * an explicit stack, and the walk stops once `tagKeys` tags (an upper bound counted by the scan of the
 * text) have been revived. The user object an escape kept is walked too, since its value may hold tags.
 */
function reviveTags(root: unknown, tagKeys: number): unknown {
  if (typeof root !== 'object' || root === null) return root;
  let left = tagKeys;
  let top: unknown = root;
  if (!Array.isArray(root)) {
    top = revived(root as Holder);
    if (top !== root && (--left === 0 || !isPlainObject(top))) return top;
  }
  const pending: object[] = [top as object];
  while (pending.length > 0) {
    const holder = pending.pop() as Holder | unknown[];
    if (Array.isArray(holder)) {
      for (let index = 0; index < holder.length; index++) {
        const replacement = revivedChild(holder[index], pending);
        if (replacement === UNCHANGED) continue;
        holder[index] = replacement;
        if (--left === 0) return top;
      }
      continue;
    }
    for (const key in holder) {
      const replacement = revivedChild(holder[key], pending);
      if (replacement === UNCHANGED) continue;
      // JSON.parse keeps a `__proto__` key as an own property; assignment would call the setter instead.
      if (key === '__proto__') Object.defineProperty(holder, key, { value: replacement, writable: true, enumerable: true, configurable: true });
      else holder[key] = replacement;
      if (--left === 0) return top;
    }
  }
  return top;
}

/** What {@link revivedChild} returns for a child that stays as it is. */
const UNCHANGED: unique symbol = Symbol('unchanged');

/**
 * What a child of a holder becomes: the value its tag stands for, or {@link UNCHANGED}. Whatever may still
 * hold tags (arrays, objects that are not tags, and the user object an escape kept) is queued on `pending`.
 */
function revivedChild(item: unknown, pending: object[]): unknown {
  if (typeof item !== 'object' || item === null) return UNCHANGED;
  if (Array.isArray(item)) {
    pending.push(item);
    return UNCHANGED;
  }
  const replacement = revived(item as Holder);
  if (replacement === item) {
    pending.push(item);
    return UNCHANGED;
  }
  if (isPlainObject(replacement)) pending.push(replacement);
  return replacement;
}

/** True for what an escape revives to (and what JSON.parse makes): not a Date or binary data, whose insides are not walked. */
function isPlainObject(value: unknown): value is Holder {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function refusedObjectKind(object: object): UnserializableKind | undefined {
  if (object instanceof Map) return 'map';
  if (object instanceof Set) return 'set';
  if (object instanceof WeakMap || object instanceof WeakSet) return 'weak-collection';
  if (object instanceof RegExp) return 'regexp';
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer || object instanceof SharedArrayBuffer) return 'binary';
  if (object instanceof Promise) return 'promise';
  return undefined;
}

function describeFailure(value: unknown, error: unknown, maxDepth: number): CacheSerializationError {
  // JSON.stringify recurses: a value nested thousands of levels deep overflows the stack.
  if (error instanceof RangeError && error.message.includes('call stack')) return new CacheSerializationError(VALUE_TOO_DEEP_TO_STORE(maxDepth), { cause: error });
  const found = findUnencodable(value);
  if (found !== undefined) {
    return new CacheSerializationError(
      found.kind === HIDDEN_STATE ? UNSERIALIZABLE_HIDDEN_STATE(found.path, found.className) : UNSERIALIZABLE_VALUE(found.path, found.kind),
    );
  }
  return new CacheSerializationError(SERIALIZATION_FAILED(describeCause(error)), { cause: error });
}

const HIDDEN_STATE = 'hidden-state';

type Unencodable = { path: string; kind: UnserializableKind } | { path: string; kind: typeof HIDDEN_STATE; className: string };

/** Depth-first search for the first part of `root` that the replacer refuses, mirroring JSON's walk. */
function findUnencodable(root: unknown): Unencodable | undefined {
  const ancestors: object[] = [];

  const visit = (raw: unknown, key: string, inArray: boolean, path: string): Unencodable | undefined => {
    const kind = primitiveKind(raw, inArray);
    if (kind !== undefined) return { path, kind };
    if (typeof raw !== 'object' || raw === null || raw instanceof Date || binaryKind(raw) !== undefined) return undefined;
    const refused = refusedObjectKind(raw);
    if (refused !== undefined) return { path, kind: refused };
    if (!Array.isArray(raw) && isClassInstance(raw) && hasHiddenState(raw)) return { path, kind: HIDDEN_STATE, className: classNameOf(raw) };
    const toJSON = (raw as { toJSON?: unknown }).toJSON;
    const value: unknown = typeof toJSON === 'function' ? (toJSON as (key: string) => unknown).call(raw, key) : raw;
    if (value !== raw) return visit(value, key, inArray, path);
    if (ancestors.includes(raw)) return { path, kind: 'circular' };
    ancestors.push(raw);
    const found = Array.isArray(raw)
      ? visitItems(raw, path)
      : visitProperties(raw as Holder, path);
    ancestors.pop();
    return found;
  };

  const visitItems = (items: unknown[], path: string): Unencodable | undefined => {
    for (let index = 0; index < items.length; index++) {
      const found = visit(items[index], String(index), true, `${path}[${index}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  };

  const visitProperties = (object: Holder, path: string): Unencodable | undefined => {
    for (const key of Object.keys(object)) {
      const found = visit(object[key], key, false, path + formatKey(key));
      if (found !== undefined) return found;
    }
    return undefined;
  };

  try {
    return visit(root, '', false, ROOT_PATH);
  } catch {
    // A getter or toJSON that throws: the caller reports JSON's own error instead.
    return undefined;
  }
}

function isClassInstance(object: object): boolean {
  const proto: unknown = Object.getPrototypeOf(object);
  return proto !== Object.prototype && proto !== null;
}

/**
 * The name of the class of `object`, for messages.
 *
 * @example
 * classNameOf(new Map()); // 'Map'
 */
export function classNameOf(object: object): string {
  const constructor: unknown = (Object.getPrototypeOf(object) as { constructor?: unknown } | null)?.constructor;
  return typeof constructor === 'function' && constructor.name !== '' ? constructor.name : '(anonymous class)';
}

function primitiveKind(raw: unknown, inArray: boolean): UnserializableKind | undefined {
  switch (typeof raw) {
    case 'bigint':
      return 'bigint';
    case 'function':
      return 'function';
    case 'symbol':
      return 'symbol';
    case 'number':
      if (Number.isNaN(raw)) return 'nan';
      return Number.isFinite(raw) ? undefined : 'infinity';
    case 'undefined':
      return inArray ? 'undefined-in-array' : undefined;
    default:
      return undefined;
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function formatKey(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
