import { INVALID_CACHED_TYPE, UNTYPED_INSTANCES_CACHED } from './messages.js';
import { LayeredCacheError } from './errors.js';
import { classNameOf, JsonSerializer, plainJsonText, type Serializer } from './serializer.js';

/**
 * A class whose instances a cached call returns. Its constructor is never called: a value read back is
 * given the class's prototype and the own properties that were stored.
 *
 * @example
 * class User { constructor(readonly id: number, readonly name: string) {} }
 * const type: CachedClass<User> = User;
 */
export type CachedClass<T extends object = object> = abstract new (...args: never[]) => T;

/**
 * The declared type of a cached value, so that every layer returns instances of it: a class, or `[Class]`
 * for an array of its instances. Only the value itself (or the items of the array) become instances;
 * objects nested inside them come back as plain objects (Dates, Buffers and Uint8Arrays keep their kind).
 * `null` and other non-objects are returned as they are.
 *
 * @example
 * await cache.getOrSet(`user:${id}`, () => users.findOne(id), { type: User });
 * await cache.getOrSet('users', () => users.findAll(), { type: [User] });
 */
export type CachedType = CachedClass | readonly [CachedClass];

/**
 * The {@link CachedType} that fits a value of type `T`: `CachedClass<User>` for `User | null`,
 * `readonly [CachedClass<User>]` for `User[]`. For options typed against the cached value.
 *
 * @example
 * const type: CachedTypeFor<User[]> = [User];
 */
export type CachedTypeFor<T> = T extends readonly (infer Item)[] ? readonly [CachedClass<Item & object>] : CachedClass<T & object>;

/**
 * How {@link prepareForCache} treats one value.
 *
 * @example
 * const options: PrepareOptions = { type: [User], onReshapedClass: (_, name) => console.warn(`${name} is cached as plain data`) };
 */
export interface PrepareOptions {
  /** The declared type of the value; without it, class instances are kept as their plain form. */
  readonly type?: CachedType;
  /**
   * Called once per call for each class whose instances in the value do not come back as instances of
   * that class (they come back as what the serializer keeps of them: a plain object, or what `toJSON` returns).
   */
  readonly onReshapedClass?: (constructor: CachedClass, className: string) => void;
}

/**
 * A value ready to be written to the layers.
 *
 * @example
 * const { payload, l1Value }: PreparedValue = prepareForCache({ id: 1 }, serializer); // payload '{"id":1}'
 */
export interface PreparedValue {
  /** The serializer's text for the value: the payload of the shared layer's envelope. */
  readonly payload: string;
  /**
   * What the in-process layer keeps: the value itself when a shared layer gives back the same kinds, else
   * what a shared layer would give back, so that both layers answer with the same kind.
   */
  readonly l1Value: unknown;
}

/**
 * Checks and encodes a value before any layer is written. Throws `CacheSerializationError` (from the
 * serializer) when the value cannot be stored faithfully, so that the write can be refused in every
 * layer. Plain data (with `JsonSerializer`, also Dates, Buffers and Uint8Arrays; with a declared `type`,
 * also its instances) is kept as it is for L1; anything else is kept in L1 as the serializer reads it back
 * (revived with `type`), which is what L2 answers, and each class that comes back as another kind is given
 * to `onReshapedClass`.
 *
 * @example
 * const { payload, l1Value } = prepareForCache(order, new JsonSerializer(), { type: Order });
 */
export function prepareForCache(value: unknown, serializer: Serializer, options: PrepareOptions = {}): PreparedValue {
  const { type } = options;
  // Plain data through the default serializer's own method: one walk says both what to write and that L1
  // may keep the value. A subclass that overrides `serialize` takes the general path, so its method runs.
  if (type === undefined && serializer.serialize === DEFAULT_SERIALIZE) {
    const text = plainJsonText(value);
    if (text !== undefined) return { payload: text, l1Value: value };
  }
  const payload = serializer.serialize(value);
  // Another serializer may not give Dates and bytes back as such (plain JSON makes them strings and
  // objects): only JSON's own kinds are kept as they are for it, the rest takes its round trip.
  if (keepsItsKind(value, type, serializer instanceof JsonSerializer)) return { payload, l1Value: value };
  const l1Value = reviveFromCache(serializer.deserialize(payload), type);
  const report = options.onReshapedClass;
  if (report !== undefined) {
    for (const constructor of reshapedClasses(value, l1Value)) report(constructor, constructor.name === '' ? '(anonymous class)' : constructor.name);
  }
  return { payload, l1Value };
}

/**
 * The value read from a layer as the declared `type`: a plain object becomes an instance of the class
 * (its prototype set to `type.prototype`, its own properties copied; the constructor is not called), and
 * for `[Class]` each plain object item of an array does. A value that already is an instance of the class
 * is returned as it is, and so is an array whose items all are; `null`, primitives and objects of other
 * kinds are returned unchanged. Without `type`, the value is returned unchanged.
 *
 * @example
 * const user = reviveFromCache({ id: 1, name: 'ann' }, User) as User; // user instanceof User
 */
export function reviveFromCache(value: unknown, type: CachedType | undefined): unknown {
  if (type === undefined) return value;
  if (typeof type === 'function') return reviveInstance(value, type);
  const itemClass = type[0];
  if (!Array.isArray(value)) return value;
  const items: readonly unknown[] = value;
  let index = 0;
  while (index < items.length && isExactly(items[index], itemClass)) index++;
  if (index === items.length) return value;
  return items.map((item) => reviveInstance(item, itemClass));
}

/**
 * Throws `LayeredCacheError` unless `type` is a {@link CachedType}: for checking decorator and call
 * options up front, where a JavaScript caller may pass anything.
 *
 * @example
 * assertCachedType([User], 'UsersService.findAll'); // passes
 */
export function assertCachedType(type: unknown, where: string): asserts type is CachedType {
  const valid =
    typeof type === 'function' ||
    (Array.isArray(type) && type.length === 1 && typeof (type as unknown[])[0] === 'function');
  if (!valid) throw new LayeredCacheError(INVALID_CACHED_TYPE(where, describeType(type)));
}

/**
 * What {@link ValueCodec} reports the first time a class's instances are cached as another kind.
 *
 * @example
 * new ValueCodec({ serializer, onReshapedClass: (notice: ReshapedClassNotice) => logger.warn(notice.message) });
 */
export interface ReshapedClassNotice {
  readonly className: string;
  readonly message: string;
}

/**
 * What a {@link ValueCodec} works with.
 *
 * @example
 * const options: ValueCodecOptions = { serializer: new JsonSerializer(), onReshapedClass: ({ message }) => logger.warn(message) };
 */
export interface ValueCodecOptions {
  /** The serializer of the shared layer. */
  readonly serializer: Serializer;
  /** Told once per class (per codec) when its instances are cached as another kind; for a warning log. */
  readonly onReshapedClass?: (notice: ReshapedClassNotice) => void;
}

/**
 * {@link prepareForCache} and {@link reviveFromCache} with one serializer, reporting each reshaped class
 * once: the object an engine keeps for its lifetime.
 *
 * @example
 * const codec = new ValueCodec({ serializer: new JsonSerializer(), onReshapedClass: ({ message }) => logger.warn(message) });
 * const { payload, l1Value } = codec.prepare(user, User);
 * const back = codec.revive(readFromL2, User);
 */
export class ValueCodec {
  readonly serializer: Serializer;
  private readonly notify: ((notice: ReshapedClassNotice) => void) | undefined;
  private readonly reported = new WeakSet<CachedClass>();
  private readonly onReshapedClass = (constructor: CachedClass, className: string): void => this.report(constructor, className);

  constructor(options: ValueCodecOptions) {
    this.serializer = options.serializer;
    this.notify = options.onReshapedClass;
  }

  /** {@link prepareForCache} with this codec's serializer; throws `CacheSerializationError` for a value it cannot store. */
  prepare(value: unknown, type?: CachedType): PreparedValue {
    return prepareForCache(value, this.serializer, { type, onReshapedClass: this.onReshapedClass });
  }

  /** {@link reviveFromCache}. */
  revive(value: unknown, type: CachedType | undefined): unknown {
    return reviveFromCache(value, type);
  }

  private report(constructor: CachedClass, className: string): void {
    if (this.reported.has(constructor)) return;
    this.reported.add(constructor);
    this.notify?.({ className, message: UNTYPED_INSTANCES_CACHED(className) });
  }
}

const DEFAULT_SERIALIZE = JsonSerializer.prototype.serialize;

/** Deeper values are not walked: they take the serializer's round trip, which is always faithful. */
const MAX_DEPTH = 32;

/**
 * True when a shared layer gives back `value` in the same kinds, so L1 may keep it as it is: plain objects,
 * arrays, primitives, Dates, Buffers and Uint8Arrays; with a declared type, instances of exactly that class
 * (or plain objects, which reading revives) where the type puts them.
 */
function keepsItsKind(value: unknown, type: CachedType | undefined, richKinds: boolean): boolean {
  if (type === undefined) return holdsPlainKinds(value, 0, richKinds);
  if (typeof type === 'function') return isDeclaredPlace(value, type, 0, richKinds);
  if (!Array.isArray(value)) return holdsPlainKinds(value, 0, richKinds);
  const items: readonly unknown[] = value;
  for (let index = 0; index < items.length; index++) {
    if (!isDeclaredPlace(items[index], type[0], 1, richKinds)) return false;
  }
  return true;
}

/** A place the declared class covers: an instance of exactly it, or a plain object, with plain kinds inside. */
function isDeclaredPlace(value: unknown, declared: CachedClass, depth: number, richKinds: boolean): boolean {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== declared.prototype) return holdsPlainKinds(value, depth, richKinds);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  return propertiesHoldPlainKinds(value as Record<string, unknown>, depth, richKinds);
}

/** Plain objects, arrays and primitives; with `richKinds` (the default serializer) also Dates, Buffers and Uint8Arrays. */
function holdsPlainKinds(value: unknown, depth: number, richKinds: boolean): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    const items: readonly unknown[] = value;
    for (let index = 0; index < items.length; index++) {
      if (!holdsPlainKinds(items[index], depth + 1, richKinds)) return false;
    }
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    return typeof (value as { toJSON?: unknown }).toJSON !== 'function' && propertiesHoldPlainKinds(value as Record<string, unknown>, depth, richKinds);
  }
  return richKinds && (proto === Date.prototype || proto === Buffer.prototype || proto === Uint8Array.prototype);
}

function propertiesHoldPlainKinds(object: Record<string, unknown>, depth: number, richKinds: boolean): boolean {
  for (const key in object) {
    if (!holdsPlainKinds(object[key], depth + 1, richKinds)) return false;
  }
  return true;
}

/** True for an instance of exactly `declared` (not of a subclass, which reviving would turn into `declared`). */
function isExactly(value: unknown, declared: CachedClass): boolean {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === declared.prototype;
}

function reviveInstance(value: unknown, declared: CachedClass): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const source = value as Record<string, unknown>;
  const instance = Object.create(declared.prototype as object) as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    // Assignment would call a setter the class (or Object.prototype, for `__proto__`) defines under that
    // name; the stored value was an own property, so it becomes one again.
    if (key in instance) Object.defineProperty(instance, key, { value: source[key], writable: true, enumerable: true, configurable: true });
    else instance[key] = source[key];
  }
  return instance;
}

/**
 * The classes of the objects in `original` whose counterpart in `stored` (the same path in what L1 keeps)
 * is not of the same class. Walks own enumerable properties where both are objects, so it does not look
 * inside the entries of a Map or Set that a custom serializer keeps (L1 still holds their round trip).
 */
function reshapedClasses(original: unknown, stored: unknown): Set<CachedClass> {
  const found = new Set<CachedClass>();
  const seen = new WeakSet<object>();

  const visit = (left: unknown, right: unknown, depth: number): void => {
    if (typeof left !== 'object' || left === null || depth > MAX_DEPTH || seen.has(left)) return;
    seen.add(left);
    const proto: unknown = Object.getPrototypeOf(left);
    const sameClass = typeof right === 'object' && right !== null && Object.getPrototypeOf(right) === proto;
    if (!sameClass && proto !== null && proto !== Object.prototype && !Array.isArray(left)) {
      const constructor = (proto as { constructor?: unknown }).constructor;
      if (typeof constructor === 'function') found.add(constructor as CachedClass);
    }
    if (typeof right !== 'object' || right === null) return;
    if (Array.isArray(left)) {
      if (!Array.isArray(right)) return;
      const items: readonly unknown[] = left;
      for (let index = 0; index < items.length; index++) visit(items[index], (right as readonly unknown[])[index], depth + 1);
      return;
    }
    const target = right as Record<string, unknown>;
    for (const key of Object.keys(left)) visit((left as Record<string, unknown>)[key], target[key], depth + 1);
  };

  visit(original, stored, 0);
  return found;
}

function describeType(type: unknown): string {
  if (Array.isArray(type)) return `an array of ${type.length} item(s)`;
  if (type === null) return 'null';
  if (typeof type === 'object') return `an instance of ${classNameOf(type)}`;
  return typeof type;
}
