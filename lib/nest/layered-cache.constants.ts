import { LayeredCache } from '../engine/layered-cache.js';

/** DI token of the in-process layer (a `CacheStore`); replace it with `{ provide: L1_STORE, useValue: store }`. */
export const L1_STORE: unique symbol = Symbol('L1_STORE');
/** DI token of the shared layer (a `CacheStore`, or `null` when the module runs L1 only). */
export const L2_STORE: unique symbol = Symbol('L2_STORE');
/** DI token of the read policy (a `ReadPolicy`). */
export const READ_POLICY: unique symbol = Symbol('READ_POLICY');
/** DI token of the write policy (a `WritePolicy`). */
export const WRITE_POLICY: unique symbol = Symbol('WRITE_POLICY');
/** DI token of the refill policy (a `RefillPolicy`). */
export const REFILL_POLICY: unique symbol = Symbol('REFILL_POLICY');

/** DI token of the module options (the object given to `forRoot`, or produced by `forRootAsync`). */
export const LAYERED_CACHE_OPTIONS: unique symbol = Symbol('LAYERED_CACHE_OPTIONS');

/** Metadata key under which the cache decorators record their definitions on a method. */
export const CACHED_METHOD_METADATA = 'nestjs-layered-cache:cached-method';

/**
 * Own property that the module sets on each provider instance whose methods it serves: the runner of each
 * cache that serves the instance, by cache name (`DEFAULT_CACHE_NAME` for the unnamed cache). Keeping the
 * binding on the instance (not in a global registry) is what lets several Nest applications in one process
 * each use their own cache.
 */
export const CACHED_METHOD_RUNNERS: unique symbol = Symbol('nestjs-layered-cache:runners');

/** The name under which the unnamed cache (`forRoot()` without `name`) serves decorated methods. */
export const DEFAULT_CACHE_NAME = '';

/**
 * DI token of each registration's own `LayeredCache`, inside its module. The registration then provides it
 * under its public token (`LayeredCache` itself, or `getLayeredCacheToken(name)`), so that a named cache is
 * never found under `LayeredCache`, not even by `app.get(LayeredCache)`.
 */
export const REGISTERED_CACHE: unique symbol = Symbol('REGISTERED_CACHE');

/** DI token of the cache's name (`DEFAULT_CACHE_NAME` without one), provided by each registration. */
export const LAYERED_CACHE_NAME: unique symbol = Symbol('LAYERED_CACHE_NAME');

/**
 * The DI token of a named cache's `LayeredCache` (see `forRoot({ name })`); without a name, the `LayeredCache`
 * class itself, which is the token of the application's default cache.
 */
export function getLayeredCacheToken(name?: string): string | typeof LayeredCache {
  return name === undefined ? LayeredCache : `nestjs-layered-cache:LayeredCache:${name}`;
}
