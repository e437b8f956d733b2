/** DI token of the module options (the object given to `forRoot`, or produced by `forRootAsync`). */
export const LAYERED_CACHE_OPTIONS: unique symbol = Symbol('LAYERED_CACHE_OPTIONS');

/** Metadata key under which the cache decorators record their definitions on a method. */
export const CACHED_METHOD_METADATA = 'nestjs-layered-cache:cached-method';

/**
 * Own property that the module sets on each provider instance whose methods it serves. Keeping the binding
 * on the instance (not in a global registry) is what lets several Nest applications in one process each
 * use their own cache.
 */
export const CACHED_METHOD_RUNNER: unique symbol = Symbol('nestjs-layered-cache:runner');
