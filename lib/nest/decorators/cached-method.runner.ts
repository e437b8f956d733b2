import { defer, from, isObservable, Observable, of, ReplaySubject, type Subscription, switchMap } from 'rxjs';
import type { CacheEventBus } from '../../core/cache-events.js';
import { encodeArguments } from '../../core/cache-key.js';
import { DEFAULT_HARD_TIMEOUT_MS, type LayeredCache, type PendingLoad } from '../../engine/layered-cache.js';
import { CacheTimeoutError, LayeredCacheError, describeCause } from '../../core/errors.js';
import { DEFAULT_KEY_FAILED, INVALID_KEY_RESULT, INVALID_TAGS_RESULT, KEY_FUNCTION_THREW, OBSERVABLE_NOT_COMPLETED, TAGS_FUNCTION_THREW } from '../layered-cache.messages.js';
import {
  type CacheEvictOptions,
  type CacheKeyOption,
  type CachedMethodCommon,
  type CachedMethodDefinition,
  type CacheStoreOptions,
  type CacheTagsOption,
  type CacheableOptions,
} from './cached-method.definition.js';

type Method = (...args: unknown[]) => unknown;

/** Decorator options of one call, with its tags worked out from the arguments. */
type ForCall<O extends CacheStoreOptions> = Omit<O, 'tags'> & { readonly tags?: readonly string[] };

/** A class, as far as default keys are concerned: its name starts them. */
export interface KeyClass {
  readonly name: string;
}

/**
 * The class whose name starts the default keys of `instance`'s cached methods: the class the instance was
 * made from, not the one that declares the method, so that a method inherited by two classes caches their
 * results apart.
 */
export function keyClassOf(instance: object): KeyClass {
  return (instance as { constructor: KeyClass }).constructor;
}

/** True when the definition builds at least one key from the class name, method name and arguments. */
export function usesDefaultKey(definition: CachedMethodDefinition): boolean {
  return definition.options.key === undefined;
}

/**
 * Runs decorated methods against one application's {@link LayeredCache}. The module puts one runner on
 * every instance it serves; the decorators' wrappers find it there.
 */
export class CachedMethodRunner {
  /** The Observable sources of `@Cacheable` misses still running, by key, shared by concurrent callers. */
  private readonly loads = new Map<string, { readonly observable: Observable<unknown>; readonly fill: PendingLoad }>();

  constructor(
    private readonly cache: LayeredCache,
    private readonly events: CacheEventBus,
  ) {}

  run(definition: CachedMethodDefinition, instance: object, method: Method, args: unknown[]): unknown {
    switch (definition.kind) {
      case 'cacheable':
        return this.cacheable(definition.options, definition.common, instance, method, args);
      case 'write':
        return this.write(definition.options, definition.common, instance, method, args);
      case 'evict':
        return this.evict(definition.options, definition.common, instance, method, args);
    }
  }

  private cacheable(declared: CacheableOptions, common: CachedMethodCommon, instance: object, method: Method, args: unknown[]): unknown {
    const key = this.keyOf(declared.key, common, instance, args);
    const options = this.withTags(declared, common, args);
    if (key === undefined || options === undefined) return method.apply(instance, args);
    if (common.returns === 'observable') return this.cacheableObservable(key, options, common, () => method.apply(instance, args));
    return this.cache.getOrSet(key, () => method.apply(instance, args), options);
  }

  /**
   * A hit emits the cached value and completes. A miss subscribes to the method's source, shared with the
   * other callers that miss the same key while it runs (each receives every emission, the earlier ones
   * replayed), and caches its last value when it completes.
   */
  private cacheableObservable(key: string, options: ForCall<CacheableOptions>, common: CachedMethodCommon, call: () => unknown): Observable<unknown> {
    return new Observable<unknown>((subscriber) => {
      let closed = false;
      let joined: Subscription | undefined;
      const miss = (): void => {
        if (!closed) joined = this.sharedLoad(key, options, common, call).subscribe(subscriber);
      };
      // A failed read counts as a miss, as in getOrSet: the layer that failed reported it.
      this.cache.get(key, options).then((value) => {
        if (closed) return;
        if (value === undefined) return miss();
        subscriber.next(value);
        subscriber.complete();
      }, miss);
      return () => {
        closed = true;
        joined?.unsubscribe();
      };
    });
  }

  /**
   * The running source of a miss of `key`, or a new one. It runs while it has subscribers: when the last
   * one unsubscribes it is torn down and leaves the map uncached. It also leaves the map when it errors
   * (uncached), when it completes (after its last value was written) and at its time limit, after which
   * its subscribers keep receiving it but its result is not cached.
   */
  private sharedLoad(key: string, options: ForCall<CacheableOptions>, common: CachedMethodCommon, call: () => unknown): Observable<unknown> {
    const running = this.loads.get(key);
    // A write of the key issued since that source started is newer than what it will give: start afresh.
    if (running !== undefined && !running.fill.stale) return running.observable;
    const fill = this.cache.beginLoad(key, options.tags);
    const replay = new ReplaySubject<unknown>();
    let source: Subscription | undefined;
    let subscribers = 0;
    let settled = false;
    let timedOut = false;
    let last: unknown;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const release = (): void => {
      clearTimeout(timer);
      fill.end();
      if (this.loads.get(key)?.observable === load) this.loads.delete(key);
    };
    const start = (): void => {
      const hardTimeoutMs = options.hardTimeoutMs ?? DEFAULT_HARD_TIMEOUT_MS;
      timer = setTimeout(() => {
        timedOut = true;
        release();
        this.events.error({
          operation: 'set',
          key: this.cache.fullKey(key),
          error: new CacheTimeoutError(OBSERVABLE_NOT_COMPLETED(common.className, common.methodName, hardTimeoutMs)),
        });
      }, hardTimeoutMs);
      // A source that runs long must not keep the process alive for the cache's sake.
      timer.unref?.();
      source = defer(() => toObservable(call())).subscribe({
        next: (value) => {
          last = value;
          replay.next(value);
        },
        error: (error: unknown) => {
          settled = true;
          release();
          replay.error(error);
        },
        complete: () => {
          settled = true;
          if (timedOut) return replay.complete();
          clearTimeout(timer);
          const written = last === undefined ? Promise.resolve() : fill.put(last, options);
          written.catch(ignore).then(() => {
            release();
            replay.complete();
          });
        },
      });
    };
    const load = new Observable<unknown>((subscriber) => {
      subscribers++;
      const inner = replay.subscribe(subscriber);
      if (source === undefined && !settled) start();
      return () => {
        inner.unsubscribe();
        if (--subscribers === 0 && !settled) {
          settled = true;
          release();
          source?.unsubscribe();
        }
      };
    });
    this.loads.set(key, { observable: load, fill });
    return load;
  }

  private write(declared: CacheStoreOptions, common: CachedMethodCommon, instance: object, method: Method, args: unknown[]): unknown {
    const result = method.apply(instance, args);
    const key = this.keyOf(declared.key, common, instance, args);
    const options = this.withTags(declared, common, args);
    if (key === undefined || options === undefined) {
      // The result cannot be cached: what the layers held for the key is older than it, and must go.
      if (key !== undefined) void this.deleteQuietly(key, declared.timeoutMs);
      return result;
    }
    if (isObservable(result)) return passThrough(result, (last) => (last === undefined ? Promise.resolve() : this.cache.put(key, last, options)));
    if (isPromiseLike(result)) return Promise.resolve(result).then((value) => this.store(key, value, options));
    void this.cache.put(key, result, { ...options, background: true });
    return result;
  }

  private evict(options: CacheEvictOptions, common: CachedMethodCommon, instance: object, method: Method, args: unknown[]): unknown {
    const keyOptions: readonly (CacheKeyOption | undefined)[] = Array.isArray(options.key) ? options.key : [options.key as CacheKeyOption | undefined];
    // With tags alone, no key is evicted; with neither, the default key of the call is.
    const keys = options.tags !== undefined && options.key === undefined ? [] : keyOptions;
    const evict = () =>
      Promise.all([
        ...keys.map((k) => this.deleteQuietly(this.keyOf(k, common, instance, args), options.timeoutMs)),
        this.invalidateTagsQuietly(options.tags === undefined ? undefined : this.tagsOf(options.tags, common, args)),
      ]).then(() => undefined);
    if (options.beforeInvocation) {
      const afterEviction = evict().then(() => method.apply(instance, args));
      return common.returns === 'observable' ? from(afterEviction).pipe(switchMap(toObservable)) : afterEviction;
    }
    const result = method.apply(instance, args);
    if (isObservable(result)) return passThrough(result, evict);
    if (isPromiseLike(result)) return Promise.resolve(result).then(async (value) => (await evict(), value));
    void evict();
    return result;
  }

  private async store<T>(key: string, value: T, options: ForCall<CacheStoreOptions>): Promise<T> {
    await this.cache.put(key, value, options);
    return value;
  }

  private async invalidateTagsQuietly(tags: readonly string[] | undefined): Promise<void> {
    if (tags === undefined) return;
    try {
      await this.cache.invalidateTags(tags);
    } catch (error) {
      // An eviction never fails the method call; one that did not reach L2 is kept and replayed.
      this.events.error({ operation: 'delete', error: error instanceof Error ? error : new LayeredCacheError(String(error)) });
    }
  }

  /** The options of this call with its tags resolved; `undefined` (reported) when the tags function failed. */
  private withTags<O extends CacheStoreOptions>(options: O, common: CachedMethodCommon, args: unknown[]): ForCall<O> | undefined {
    if (options.tags === undefined) return options as ForCall<O>;
    const tags = this.tagsOf(options.tags, common, args);
    if (tags === undefined) return undefined;
    return options.tags === tags ? (options as ForCall<O>) : { ...options, tags };
  }

  /** The tags of this call, or `undefined` (reported) when the tags function threw or gave something else than strings. */
  private tagsOf(option: CacheTagsOption, common: CachedMethodCommon, args: unknown[]): readonly string[] | undefined {
    let tags: unknown;
    try {
      tags = typeof option === 'function' ? (option as (...a: unknown[]) => unknown)(...args) : option;
    } catch (error) {
      this.events.error({ operation: 'key', error: new LayeredCacheError(TAGS_FUNCTION_THREW(common.className, common.methodName, describeCause(error)), { cause: error }) });
      return undefined;
    }
    if (Array.isArray(tags) && tags.every((tag) => typeof tag === 'string' && tag !== '')) return tags as readonly string[];
    this.events.error({ operation: 'key', error: new LayeredCacheError(INVALID_TAGS_RESULT(common.className, common.methodName, tags)) });
    return undefined;
  }

  private async deleteQuietly(key: string | undefined, timeoutMs: number | undefined): Promise<void> {
    if (key === undefined) return;
    try {
      await this.cache.delete(key, timeoutMs === undefined ? undefined : { timeoutMs });
    } catch {
      // Each failing layer reported itself; an eviction never fails the method call.
    }
  }

  /**
   * The key for this call, or `undefined` (reported) when it cannot be built. The reported error names the
   * method, which neither a key function's own error nor an argument's encoding error can know; what was
   * thrown is its `cause`. Default keys start with the class of the instance, so that an inherited method
   * gives each subclass keys of its own.
   */
  private keyOf(option: CacheKeyOption | undefined, common: CachedMethodCommon, instance: object, args: unknown[]): string | undefined {
    const { className, methodName } = common;
    if (typeof option === 'string') return option;
    let key: unknown;
    try {
      if (option === undefined) return `${keyClassOf(instance).name}.${methodName}:${encodeArguments(args)}`;
      key = (option as (...a: unknown[]) => unknown)(...args);
    } catch (error) {
      const message = option === undefined ? DEFAULT_KEY_FAILED(className, methodName, describeCause(error)) : KEY_FUNCTION_THREW(className, methodName, describeCause(error));
      this.events.error({ operation: 'key', error: new LayeredCacheError(message, { cause: error }) });
      return undefined;
    }
    if (typeof key === 'string' && key !== '') return key;
    this.events.error({ operation: 'key', error: new LayeredCacheError(INVALID_KEY_RESULT(className, methodName, key)) });
    return undefined;
  }
}

const ignore = (): void => undefined;

/**
 * Each subscription receives every emission of `source` as it happens; when the source completes,
 * `onComplete` gets its last value (undefined when it emitted none) and the subscriber completes after it.
 * An error passes through without `onComplete`; unsubscribing tears the source down.
 */
function passThrough(source: Observable<unknown>, onComplete: (last: unknown) => Promise<void>): Observable<unknown> {
  return new Observable<unknown>((subscriber) => {
    let last: unknown;
    return source.subscribe({
      next: (value) => {
        last = value;
        subscriber.next(value);
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => {
        // The cache reports its own failures; the method's result stands either way.
        onComplete(last).catch(ignore).then(() => subscriber.complete());
      },
    });
  });
}

/** The method's result as an Observable: itself, a promise's value, or a plain value. */
function toObservable(result: unknown): Observable<unknown> {
  if (isObservable(result)) return result;
  if (isPromiseLike(result)) return from(result);
  return of(result);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
