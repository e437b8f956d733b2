import { defer, from, isObservable, lastValueFrom, type Observable } from 'rxjs';
import type { CacheEventBus } from '../core/cache-events';
import { encodeArguments } from '../core/cache-key';
import type { LayeredCache } from '../core/layered-cache';
import { LayeredCacheError, describeCause } from '../core/errors';
import { DEFAULT_KEY_FAILED, INVALID_KEY_RESULT, KEY_FUNCTION_THREW } from '../layered-cache.messages';
import type { CacheEvictOptions, CacheKeyOption, CachedMethodCommon, CachedMethodDefinition, CacheStoreOptions, CacheableOptions } from './cached-method.definition';

type Method = (...args: unknown[]) => unknown;

/**
 * Runs decorated methods against one application's {@link LayeredCache}. The module puts one runner on
 * every instance it serves; the decorators' wrappers find it there.
 */
export class CachedMethodRunner {
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

  private cacheable(options: CacheableOptions, common: CachedMethodCommon, instance: object, method: Method, args: unknown[]): unknown {
    const key = this.keyOf(options.key, common, args);
    if (key === undefined) return method.apply(instance, args);
    if (common.returns === 'observable') {
      return defer(() => from(this.cache.getOrSet(key, () => settle(method.apply(instance, args)), options)));
    }
    return this.cache.getOrSet(key, () => method.apply(instance, args), options);
  }

  private write(options: CacheStoreOptions, common: CachedMethodCommon, instance: object, method: Method, args: unknown[]): unknown {
    const result = method.apply(instance, args);
    const key = this.keyOf(options.key, common, args);
    if (key === undefined) return result;
    if (isObservable(result)) return defer(() => from(settle(result).then((value) => this.store(key, value, options))));
    if (isPromiseLike(result)) return Promise.resolve(result).then((value) => this.store(key, value, options));
    void this.cache.put(key, result, { ...options, background: true });
    return result;
  }

  private evict(options: CacheEvictOptions, common: CachedMethodCommon, instance: object, method: Method, args: unknown[]): unknown {
    const keyOptions: readonly (CacheKeyOption | undefined)[] = Array.isArray(options.key) ? options.key : [options.key as CacheKeyOption | undefined];
    const evict = () => Promise.all(keyOptions.map((k) => this.deleteQuietly(this.keyOf(k, common, args), options.timeoutMs))).then(() => undefined);
    if (options.beforeInvocation) {
      const afterEviction = evict().then(() => method.apply(instance, args));
      return common.returns === 'observable' ? defer(() => from(afterEviction.then(settle))) : afterEviction;
    }
    const result = method.apply(instance, args);
    if (isObservable(result)) return defer(() => from(settle(result).then(async (value) => (await evict(), value))));
    if (isPromiseLike(result)) return Promise.resolve(result).then(async (value) => (await evict(), value));
    void evict();
    return result;
  }

  private async store<T>(key: string, value: T, options: CacheStoreOptions): Promise<T> {
    await this.cache.put(key, value, options);
    return value;
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
   * thrown is its `cause`.
   */
  private keyOf(option: CacheKeyOption | undefined, common: CachedMethodCommon, args: unknown[]): string | undefined {
    const { className, methodName } = common;
    if (typeof option === 'string') return option;
    let key: unknown;
    try {
      if (option === undefined) return `${className}.${methodName}:${encodeArguments(args)}`;
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

/** The last value an Observable emits (undefined when it emits none), or a promise's value. */
function settle(result: unknown): Promise<unknown> {
  if (isObservable(result)) return lastValueFrom(result as Observable<unknown>, { defaultValue: undefined });
  return Promise.resolve(result);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
