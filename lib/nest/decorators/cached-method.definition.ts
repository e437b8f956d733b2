import type { Duration } from '../../core/ttl.js';
import type { CachedType } from '../../core/value-codec.js';
import type { ReadPolicy } from '../../policies/read/read-policy.interface.js';
import type { SingleFlightOptions } from '../../engine/shared-loads.js';
import type { WritePolicy } from '../../policies/write/write-policy.interface.js';

/**
 * A cache key: a fixed string, or a function of the method's first arguments (`(id: string) =>
 * \`product:${id}\``). The decorators check its parameters against the decorated method's: a key function
 * whose parameters do not fit the method's first parameters does not compile.
 */
export type CacheKeyOption<Args extends unknown[] = never[]> = string | ((...args: Args) => string);

/**
 * Tags of an entry: a fixed list, or a function of the method's first arguments
 * (`(product: Product) => [\`category:${product.categoryId}\`]`), checked against the method's parameters
 * as a key function is.
 */
export type CacheTagsOption<Args extends unknown[] = never[]> = readonly string[] | ((...args: Args) => readonly string[]);

/**
 * What a caching decorator returns: a method decorator that accepts only methods whose first parameters fit
 * the parameters of its key and tags functions (a method may take more arguments than they read).
 */
export type CachedMethodDecorator<KeyArgs extends unknown[] = never[], TagArgs extends unknown[] = never[]> = <
  Method extends ((...args: [...KeyArgs, ...never[]]) => unknown) & ((...args: [...TagArgs, ...never[]]) => unknown),
>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<Method>,
) => TypedPropertyDescriptor<Method> | void;

/** Options shared by the decorators that write; `KeyArgs` and `TagArgs` are the parameters of the key and tags functions. */
export interface CacheStoreOptions<KeyArgs extends unknown[] = never[], TagArgs extends unknown[] = never[]> {
  /**
   * Name of the cache that serves this method (`LayeredCacheModule.forRoot({ name })`); default the
   * application's unnamed cache. Checked at startup: a name no registration has fails the application's start.
   */
  cache?: string;
  /** Tags of the entry: `LayeredCache.invalidateTags` or `@CacheEvict({ tags })` with any of them makes it a miss on every instance. */
  tags?: CacheTagsOption<TagArgs>;
  /**
   * Key of the entry. Default: `ClassName.method:` plus a collision-free encoding of the arguments, where
   * `ClassName` is the class of the instance, so a method inherited by two classes caches under two keys.
   */
  key?: CacheKeyOption<KeyArgs>;
  /**
   * The class of the method's result (`[Class]` for an array of them), so that a hit from any layer is an
   * instance of it, as the method's own result is; a `ClassSerializerInterceptor` then strips the same
   * fields whichever layer answered. Without it, instances come back as plain objects from every layer.
   *
   * @example
   * \@Cacheable({ key: (id: string) => `user:${id}`, type: User })
   */
  type?: CachedType;
  /**
   * Time to live: milliseconds (`30_000`), or a string with its unit (`'30s'`); default the module's `ttl`.
   * 0 keeps the entry until evicted.
   */
  ttl?: Duration;
  /** Write policy for this method instead of the module's. */
  writePolicy?: WritePolicy;
  /**
   * Return without waiting for L2: L1 is written at once, L2 in the background with the other background
   * writes (one batch on the offload service). Default false.
   */
  background?: boolean;
  /**
   * Longest wait for L2 in one call, in milliseconds; default the module's `resilience.timeoutMs`. For
   * `@Cacheable` it covers the read and the write after a miss together (for an Observable result, each
   * gets the whole of it). After it the method's result is used without L2.
   */
  timeoutMs?: number;
}


/** Options of `@Cacheable`. */
export interface CacheableOptions<KeyArgs extends unknown[] = never[], TagArgs extends unknown[] = never[]> extends CacheStoreOptions<KeyArgs, TagArgs>, SingleFlightOptions {
  /** Read policy for this method instead of the module's. */
  readPolicy?: ReadPolicy;
  /**
   * The longest the cache waits for the method's result, in milliseconds; default
   * `DEFAULT_HARD_TIMEOUT_MS` (30 000, as for `getOrSet`). A result that has not settled (a Promise) or completed
   * (an Observable) by then still reaches its callers or subscribers, but it is not cached and the next call
   * for the key runs the method again instead of joining it: a method that never answers cannot block its key.
   */
  hardTimeoutMs?: number;
}

/** Options of `@CacheWrite`. */
export type CacheWriteOptions<KeyArgs extends unknown[] = never[], TagArgs extends unknown[] = never[]> = CacheStoreOptions<KeyArgs, TagArgs>;

/** Options of `@CacheEvict`. */
export interface CacheEvictOptions<KeyArgs extends unknown[] = never[], TagArgs extends unknown[] = never[]> {
  /**
   * Name of the cache that serves this method (`LayeredCacheModule.forRoot({ name })`); default the
   * application's unnamed cache. Checked at startup: a name no registration has fails the application's start.
   */
  cache?: string;
  /** Key or keys to delete. Default: the default key of this method and arguments. */
  key?: CacheKeyOption<KeyArgs> | readonly CacheKeyOption<KeyArgs>[];
  /** Tags to invalidate (see `LayeredCache.invalidateTags`), with the keys or instead of them. */
  tags?: CacheTagsOption<TagArgs>;
  /** Delete before calling the method instead of after it succeeded. Default false. */
  beforeInvocation?: boolean;
  /** Longest wait for L2 in the eviction, in milliseconds; default the module's `resilience.timeoutMs`. */
  timeoutMs?: number;
}

/**
 * How a decorated method returns its result, read from TypeScript's `design:returntype` metadata (or from
 * the method being `async`); `unknown` when neither tells.
 */
export type CachedMethodReturnKind = 'promise' | 'observable' | 'sync' | 'unknown';

/** Everything the module needs to serve one decorated method. */
export type CachedMethodDefinition =
  | { readonly kind: 'cacheable'; readonly options: CacheableOptions; readonly common: CachedMethodCommon }
  | { readonly kind: 'write'; readonly options: CacheWriteOptions; readonly common: CachedMethodCommon }
  | { readonly kind: 'evict'; readonly options: CacheEvictOptions; readonly common: CachedMethodCommon };

/** Facts about the decorated method itself. */
export interface CachedMethodCommon {
  /** How messages name the decorator (`@Cacheable`). */
  readonly decorator: string;
  /** The class that declares the method (a subclass that inherits it keys by its own name). */
  readonly className: string;
  readonly methodName: string;
  readonly returns: CachedMethodReturnKind;
}
