import { SERIALIZATION_FAILED, PAYLOAD_UNDECODABLE, UNSERIALIZABLE_VALUE, type UnserializableKind } from '../layered-cache.messages';
import { CacheSerializationError, describeCause } from './errors';

/**
 * Turns cached values into text for a shared layer and back. `serialize` throws
 * `CacheSerializationError` for values it cannot store faithfully; `deserialize` throws it for text it
 * cannot read.
 */
export interface Serializer {
  serialize(value: unknown): string;
  deserialize(text: string): unknown;
}

/**
 * The default serializer: JSON, plus `Date` values anywhere in the value.
 *
 * It refuses (with the path of the offending part, e.g. `value.items[2].id is a BigInt`) what JSON
 * would silently change: BigInt, functions, symbols, Map, Set, WeakMap, WeakSet, RegExp, binary data,
 * promises, NaN and Infinity, `undefined` inside arrays, and circular references. `undefined` object
 * properties are dropped, as JSON does. Objects keep their own enumerable properties, not their class.
 *
 * Text with no Date in it is plain JSON and is read with a bare `JSON.parse`; only text that starts
 * with `~` (written when the value holds a Date) pays for a reviver.
 *
 * @example
 * const serializer = new JsonSerializer();
 * const text = serializer.serialize({ at: new Date(0), tags: ['a'] }); // '~{"at":{"$date":"1970-01-01T00:00:00.000Z"},"tags":["a"]}'
 * serializer.deserialize(text); // { at: Date(1970-01-01T00:00:00.000Z), tags: ['a'] }
 */
export class JsonSerializer implements Serializer {
  /** JSON text of `value`, prefixed with `~` when it holds tagged values; throws `CacheSerializationError` for what it refuses. */
  serialize(value: unknown): string {
    // Most cached values are plain data: checking that in JS and calling JSON.stringify without a replacer
    // is about twice as fast as a replacer, which JSON calls back for every node.
    if (isPlainData(value, 0)) return JSON.stringify(value);
    const state: EncodeState = { tagged: false };
    let json: string | undefined;
    try {
      json = JSON.stringify(value, createReplacer(state));
    } catch (error) {
      throw describeFailure(value, error);
    }
    if (json === undefined) throw new CacheSerializationError(UNSERIALIZABLE_VALUE(ROOT_PATH, 'undefined'));
    return state.tagged ? TAGGED_MARKER + json : json;
  }

  /** The value `serialize` encoded; throws `CacheSerializationError` for text that is not valid JSON. */
  deserialize(text: string): unknown {
    try {
      return text.charCodeAt(0) === TAGGED_MARKER_CODE ? JSON.parse(text.slice(1), revive) : JSON.parse(text);
    } catch (error) {
      throw new CacheSerializationError(PAYLOAD_UNDECODABLE(describeCause(error)), { cause: error });
    }
  }
}

// No JSON text starts with `~`, so the marker cannot be confused with a plain payload.
const TAGGED_MARKER = '~';
const TAGGED_MARKER_CODE = 0x7e;
const ROOT_PATH = 'value';

// Tags are single-key objects. A user object that has exactly one of these keys is escaped as
// `{"$obj": [key, value]}` so that reading it back cannot mistake it for a tag.
const DATE_TAG = '$date';
const ESCAPE_TAG = '$obj';

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
        if (proto !== Object.prototype && proto !== null && refusedObjectKind(raw) !== undefined) throw REFUSED;
        // `value` differs from `raw` when a toJSON produced it; JSON walks into it without asking the replacer again.
        return escapeReservedKey(value, state);
      }
      default:
        throw REFUSED;
    }
  };
}

/** Deeper values take the replacer path, which also detects cycles. */
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
      if (object[DATE_TAG] !== undefined || object[ESCAPE_TAG] !== undefined || typeof object.toJSON === 'function') return false;
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
  // Two property reads keep the common case cheap; keys are only counted when a reserved one exists.
  if (object[DATE_TAG] === undefined && object[ESCAPE_TAG] === undefined) return value;
  const keys = Object.keys(object);
  if (keys.length !== 1 || (keys[0] !== DATE_TAG && keys[0] !== ESCAPE_TAG)) return value;
  state.tagged = true;
  return { [ESCAPE_TAG]: [keys[0], object[keys[0]]] };
}

function revive(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const object = value as Holder;
  const date = object[DATE_TAG];
  const escaped = object[ESCAPE_TAG];
  if (date === undefined && escaped === undefined) return value;
  if (Object.keys(object).length !== 1) return value;
  if (typeof date === 'string') return new Date(date);
  if (date === null) return new Date(Number.NaN);
  if (Array.isArray(escaped) && escaped.length === 2 && (escaped[0] === DATE_TAG || escaped[0] === ESCAPE_TAG)) {
    // A literal key from the fixed pair above, so this can never create a `__proto__` setter call.
    return escaped[0] === DATE_TAG ? { [DATE_TAG]: escaped[1] } : { [ESCAPE_TAG]: escaped[1] };
  }
  return value;
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

function describeFailure(value: unknown, error: unknown): CacheSerializationError {
  const found = findUnencodable(value);
  if (found !== undefined) return new CacheSerializationError(UNSERIALIZABLE_VALUE(found.path, found.kind));
  return new CacheSerializationError(SERIALIZATION_FAILED(describeCause(error)), { cause: error });
}

interface Unencodable {
  path: string;
  kind: UnserializableKind;
}

/** Depth-first search for the first part of `root` that the replacer refuses, mirroring JSON's walk. */
function findUnencodable(root: unknown): Unencodable | undefined {
  const ancestors: object[] = [];

  const visit = (raw: unknown, key: string, inArray: boolean, path: string): Unencodable | undefined => {
    const kind = primitiveKind(raw, inArray);
    if (kind !== undefined) return { path, kind };
    if (typeof raw !== 'object' || raw === null || raw instanceof Date) return undefined;
    const refused = refusedObjectKind(raw);
    if (refused !== undefined) return { path, kind: refused };
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
