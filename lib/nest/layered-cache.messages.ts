/**
 * The messages of the Nest ring (module, decorators, explorer, lifecycle): what a user sees about how the
 * cache is wired into an application. Each says what was wrong and how to fix it. The core's messages are
 * in core/messages.ts.
 */

import { TTL_RANGE, shown } from '../core/messages.js';

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}


/** A key function returned something other than a non-empty string. */
export const INVALID_KEY_RESULT = (className: string, methodName: string, key: unknown): string =>
  `The key function of ${className}.${methodName} returned ${typeof key === 'string' ? 'an empty string' : String(key)}; it must return a non-empty string. The call ran without the cache.`;

/** An Observable returned by a `@Cacheable` method did not complete within its time limit. */
export const OBSERVABLE_NOT_COMPLETED = (className: string, methodName: string, hardTimeoutMs: number): string =>
  `The Observable returned by ${className}.${methodName} did not complete within ${hardTimeoutMs} ms (hardTimeoutMs), so its result will not be cached and the next call runs the method again; its subscribers still receive it. Make the Observable complete (take(1), first()), or raise hardTimeoutMs in @Cacheable if it legitimately needs longer.`;

/** A decorator's tags function threw; `cause` is what it threw. */
export const TAGS_FUNCTION_THREW = (className: string, methodName: string, cause: string): string =>
  `The tags function of ${className}.${methodName} threw: ${cause}. The call ran without the cache; make the tags function handle these arguments.`;

/** A decorator's tags function returned something other than a list of non-empty strings. */
export const INVALID_TAGS_RESULT = (className: string, methodName: string, tags: unknown): string =>
  `The tags function of ${className}.${methodName} returned ${Array.isArray(tags) ? JSON.stringify(tags) : String(tags)}; it must return an array of non-empty strings. The call ran without the cache.`;

/** A decorator's key function threw; `cause` is what it threw. */
export const KEY_FUNCTION_THREW = (className: string, methodName: string, cause: string): string =>
  `The key function of ${className}.${methodName} threw: ${cause}. The call ran without the cache; make the key function handle these arguments (or give it arguments it can read).`;

/** The default key of a decorated method could not encode the call's arguments; `cause` says which and why. */
export const DEFAULT_KEY_FAILED = (className: string, methodName: string, cause: string): string =>
  `${className}.${methodName} ran without the cache: ${cause}`;

/** A cache decorator was put on something that is not a method. */
export const NOT_A_METHOD = (decorator: string, className: string, member: string): string =>
  `${decorator} on ${className}.${member} cannot be applied: it is not a method. Put it on a method of the class.`;

/** A decorator's key option is neither a non-empty string nor a function. */
export const INVALID_DECORATOR_KEY = (decorator: string, key: unknown): string =>
  `${decorator} got key ${JSON.stringify(key) ?? String(key)}: a key must be a non-empty string or a function of the method's arguments that returns one.`;

/** A decorator's cache option is not a cache name. */
export const INVALID_DECORATOR_CACHE_NAME = (decorator: string, name: unknown): string =>
  `${decorator} got cache ${JSON.stringify(name) ?? String(name)}: it must be the non-empty name given to LayeredCacheModule.forRoot({ name }), or left out for the unnamed cache.`;

/** A decorator's ttl option is not a number of milliseconds in the range a layer can store. */
export const INVALID_DECORATOR_TTL = (decorator: string, ttl: unknown): string => `${decorator} got ttl ${shown(ttl)} (${typeof ttl}): ${TTL_RANGE}.`;

/** A decorated method was called on an instance that no LayeredCacheModule serves. */
export const METHOD_NOT_BOUND = (decorator: string, className: string, methodName: string, cacheName: string | undefined): string =>
  cacheName === undefined
    ? `${decorator} on ${className}.${methodName} ran without the cache: this instance is not served by a LayeredCacheModule. Import LayeredCacheModule.forRoot() in the application that provides ${className} (isGlobal: true makes it reach every module), and get ${className} from Nest's container instead of creating it with new.`
    : `${decorator} on ${className}.${methodName} ran without the cache: this instance is not served by the cache named "${cacheName}". Import LayeredCacheModule.forRoot({ name: '${cacheName}' }) in the application that provides ${className}, and get ${className} from Nest's container instead of creating it with new.`;

/** Part of the startup line when no L2 is configured. */
export const L1_ONLY =
  'No L2 store configured: caching in process memory only (L1). Pass l2: { url } (Redis) or any CacheStore to share the cache between instances.';

/**
 * Logged once at startup: which layers run. `l2` is `undefined` when there is none. Descriptions never
 * contain credentials (see `describeRedisTarget`).
 */
export const LAYERS_STARTED = (cacheName: string, l1: string, l2: string | undefined, invalidation: string | undefined, l1MaxTtl: number | string | undefined): string => {
  const layers = cacheName === '' ? 'Cache layers' : `Cache layers of "${cacheName}"`;
  return (
    (l2 === undefined ? `${layers}: L1 ${l1}. ${L1_ONLY}` : `${layers}: L1 ${l1}; L2 ${l2}; L1 invalidation: ${invalidation ?? 'none (other instances\' writes reach this L1 only when its entries expire)'}.`) +
    (l1MaxTtl === undefined ? '' : ` L1 keeps entries at most ${typeof l1MaxTtl === 'number' ? `${l1MaxTtl} ms` : l1MaxTtl}.`)
  );
};

/**
 * How the startup line describes the `MemoryStore` the module created: its bound in entries, and in bytes
 * (`maxBytes`, or `maxSize` without `sizeOf`) or in the units of its `sizeOf`.
 */
export const MEMORY_STORE_DESCRIPTION = (maxEntries: number, size: { readonly bound: number; readonly unit: 'bytes' | 'size units' } | undefined): string =>
  `MemoryStore, up to ${maxEntries} entries${size === undefined ? '' : ` and ${size.bound} ${size.unit}`}`;

/**
 * Logged at once for the first cache failure of a kind (layer, operation and error class); `detail` says
 * what failed and why (the underlying messages say how to fix it).
 */
export const CACHE_FAILURE_LOGGED = (kind: string, detail: string, windowMs: number): string =>
  `Cache failure (${kind}): ${detail}. Further failures of this kind are counted and summarised every ${formatSeconds(windowMs)} while they last.`;

/** Logged at the end of a window in which failures of a kind were counted rather than logged one by one. */
export const CACHE_FAILURES_SUMMARY = (kind: string, count: number, windowMs: number, lastDetail: string): string =>
  `Cache failure (${kind}): ${count} more in the last ${formatSeconds(windowMs)}; the last: ${lastDetail}.`;

/** Logged at shutdown for failures of a kind counted since the last summary. */
export const CACHE_FAILURES_AT_SHUTDOWN = (kind: string, count: number, lastDetail: string): string =>
  `Cache failure (${kind}): ${count} more before shutdown; the last: ${lastDetail}.`;

/** @Cacheable on a method that returns synchronously. */
export const SYNC_CACHEABLE_METHOD = (className: string, methodName: string): string =>
  `@Cacheable on ${className}.${methodName} cannot be served: the method returns a plain value, but reading the cache is asynchronous. Make the method async (return a Promise) or return an Observable.`;

/** @Cacheable on a method that is not async and whose return type TypeScript did not record. */
export const UNKNOWN_RESULT_CACHEABLE_METHOD = (className: string, methodName: string): string =>
  `@Cacheable on ${className}.${methodName} cannot be served: the method is not async and has no recorded return type (no return type annotation, or one such as void that emits no "design:returntype" metadata), so it may return a plain value, which the cache could only hand back as a Promise. Make the method async, or annotate its return type as ": Promise<T>" or ": Observable<T>" (with emitDecoratorMetadata on).`;

/** Two distinct classes of one name both cache under default keys, which start with the class name. */
export const DEFAULT_KEY_CLASS_NAME_CLASH = (className: string, first: string, second: string): string =>
  `Two distinct classes are named ${className} (one ${first}, the other ${second}) and both have cache decorators without a "key", so their default keys ("${className}.method:(arguments)") would be the same and each would read and overwrite the other's entries. Rename one of the classes, or give the cache decorators of one of them a "key" option.`;

/** A decorated method on a request-scoped or transient-with-request-dependencies provider. */
export const NON_STATIC_PROVIDER = (className: string, methodName: string): string =>
  `Cache decorators on ${className}.${methodName} cannot be served: ${className} is request-scoped (or depends on a request-scoped provider), so it has no instance at startup. Make it a singleton, or inject LayeredCache and call getOrSet directly.`;

/** Two cache modules tried to serve the same instance. */
export const INSTANCE_SERVED_TWICE = (name: string, cacheName: string): string =>
  `${name} is served by two LayeredCacheModule registrations${cacheName === '' ? '' : ` named "${cacheName}"`} in one application, so its cached methods could not know which cache to use. Register LayeredCacheModule.forRoot(${cacheName === '' ? '' : `{ name: '${cacheName}' }`}) once (with isGlobal: true to reach every module), or give each registration its own name.`;

/** Two registrations of one application have the same name (or none). */
export const CACHE_REGISTERED_TWICE = (cacheName: string): string =>
  cacheName === ''
    ? 'LayeredCacheModule.forRoot() without a name is registered twice in one application. Register it once (isGlobal: true makes it reach every module), or give each extra cache a name: forRoot({ name: \'reports\' }) and inject it with @InjectLayeredCache(\'reports\').'
    : `LayeredCacheModule.forRoot({ name: '${cacheName}' }) is registered twice in one application. Register each named cache once (isGlobal: true makes it reach every module), or give the second one another name.`;

/** A decorated method names a cache that no registration of the application has. */
export const UNKNOWN_CACHE_NAME = (decorator: string, className: string, methodName: string, cacheName: string, known: readonly string[]): string =>
  `${decorator} on ${className}.${methodName} uses the cache "${cacheName}", but this application registers no LayeredCacheModule.forRoot({ name: '${cacheName}' }). ` +
  (known.length === 0 ? 'It registers no named cache.' : `Its named caches: ${known.map((name) => `"${name}"`).join(', ')}.`) +
  ' Register that cache, or fix the cache option.';

/** A decorated method uses the unnamed cache, but the application registers only named ones. */
export const NO_DEFAULT_CACHE = (decorator: string, className: string, methodName: string, known: readonly string[]): string =>
  `${decorator} on ${className}.${methodName} has no cache option, so it uses the unnamed cache, but this application registers only named caches (${known.map((name) => `"${name}"`).join(', ')}). Pass cache: '<name>' to the decorator, or register LayeredCacheModule.forRoot() without a name too.`;

/** `forRoot({ name })` got a name that cannot be one. */
export const INVALID_CACHE_NAME = (name: unknown): string =>
  `LayeredCacheModule got name ${JSON.stringify(name) ?? String(name)}: a cache name must be a non-empty string. Leave it out for the application's unnamed cache.`;

/** Shutdown could not finish background writes in time. */
export const SHUTDOWN_LEFT_WORK = (pending: number): string =>
  `Shutdown timed out with ${pending} background cache task(s) unfinished; they were aborted and their writes may be missing from the cache. Raise shutdownTimeoutMs if your L2 needs longer.`;

/** A decorator's timeoutMs option is not a usable number of milliseconds. */
export const INVALID_DECORATOR_TIMEOUT = (decorator: string, timeoutMs: unknown): string =>
  `${decorator} got timeoutMs ${String(timeoutMs)}: it bounds how long a call waits for L2, in milliseconds, and must be a number greater than 0 and at most 2147483647. Leave it out to use the module's resilience.timeoutMs.`;

/** A decorator's hardTimeoutMs option is not a usable number of milliseconds. */
export const INVALID_DECORATOR_HARD_TIMEOUT = (decorator: string, hardTimeoutMs: unknown): string =>
  `${decorator} got hardTimeoutMs ${String(hardTimeoutMs)}: it bounds how long the cache waits for the method's result, in milliseconds, and must be a number greater than 0 and at most 2147483647. Leave it out to use the default.`;

/** `@CacheTTL` (ours or `@nestjs/cache-manager`'s) of a route gave something that is not a usable TTL. */
export const INVALID_ROUTE_CACHE_TTL = (route: string, ttl: unknown): string =>
  `@CacheTTL of ${route} gave ${shown(ttl)} (${typeof ttl}), so LayeredCacheInterceptor could not cache the response and the request failed: ${TTL_RANGE} (the module's "ttl"). @CacheTTL takes milliseconds, like @nestjs/cache-manager 5 and later: @CacheTTL(5_000) is five seconds.`;

/** The health check was asked about a cache the application does not have. */
export const HEALTH_CACHE_NOT_FOUND = (name: string | undefined): string =>
  name === undefined
    ? `LayeredCacheHealthIndicator found no LayeredCache in the application. Import LayeredCacheModule.forRoot(), or pass the cache to check: isHealthy('cache', { cache: 'name' }) for a named cache, or a LayeredCache instance.`
    : `LayeredCacheHealthIndicator found no cache named "${name}". Register it with LayeredCacheModule.forRoot({ name: '${name}' }), or pass the name of a registered cache in "cache".`;
