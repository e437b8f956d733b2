import { Logger } from '@nestjs/common';
import { Observable } from 'rxjs';
import { CACHED_METHOD_METADATA, CACHED_METHOD_RUNNERS, DEFAULT_CACHE_NAME } from '../layered-cache.constants.js';
import { LayeredCacheError } from '../../core/errors.js';
import { type Duration, validTtl } from '../../core/ttl.js';
import { assertCachedType } from '../../core/value-codec.js';
import { INVALID_DECORATOR_CACHE_NAME, INVALID_DECORATOR_HARD_TIMEOUT, INVALID_DECORATOR_KEY, INVALID_DECORATOR_TIMEOUT, INVALID_DECORATOR_TTL, METHOD_NOT_BOUND, NOT_A_METHOD } from '../layered-cache.messages.js';
import { MAX_TIMER_MS } from '../../core/with-timeout.js';
import type { CachedMethodDefinition, CachedMethodReturnKind, CacheKeyOption } from './cached-method.definition.js';
import type { CachedMethodRunner } from './cached-method.runner.js';

type Method = (...args: unknown[]) => unknown;

/** An instance the module serves: see `CACHED_METHOD_RUNNERS`. */
type ServedInstance = { readonly [CACHED_METHOD_RUNNERS]?: ReadonlyMap<string, CachedMethodRunner> };
type DefinitionOf<K extends CachedMethodDefinition['kind']> = Extract<CachedMethodDefinition, { kind: K }>;

const logger = new Logger('LayeredCache');

/**
 * Builds a method decorator that records its definition as metadata (for the module's explorer, which
 * validates it at startup) and wraps the method. The wrapper asks the instance for the runner the module
 * put on it, so each application serves its own instances with its own cache; an instance that no module
 * serves runs the plain method and warns once.
 */
export function createCachedMethodDecorator<K extends CachedMethodDefinition['kind']>(
  decoratorName: string,
  kind: K,
  options: DefinitionOf<K>['options'],
): MethodDecorator {
  const checked = validateOptions(decoratorName, options);
  return (target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor) => {
    const className = (target as { constructor: { name: string } }).constructor.name;
    const methodName = String(propertyKey);
    const original: unknown = descriptor.value;
    if (typeof original !== 'function') throw new TypeError(NOT_A_METHOD(decoratorName, className, methodName));
    const method = original as Method;
    const definition = {
      kind,
      options: checked,
      common: { decorator: decoratorName, className, methodName, returns: returnKindOf(target, propertyKey, method) },
    } as DefinitionOf<K>;
    const cacheName = checked.cache ?? DEFAULT_CACHE_NAME;
    let warned = false;
    const wrapper = function (this: object, ...args: unknown[]): unknown {
      const runner = (this as ServedInstance | undefined)?.[CACHED_METHOD_RUNNERS]?.get(cacheName);
      if (runner === undefined) {
        if (!warned) {
          warned = true;
          logger.warn(METHOD_NOT_BOUND(decoratorName, className, methodName, checked.cache));
        }
        return method.apply(this, args);
      }
      return runner.run(definition, this, method, args);
    };
    Object.defineProperty(wrapper, 'name', { value: method.name });
    copyMetadata(method, wrapper);
    const definitions: CachedMethodDefinition[] = Reflect.getMetadata(CACHED_METHOD_METADATA, method) ?? [];
    Reflect.defineMetadata(CACHED_METHOD_METADATA, [...definitions, definition], wrapper);
    descriptor.value = wrapper;
    return descriptor;
  };
}

/** Keeps the metadata other decorators put on the method (route paths, guards, ...) visible on the wrapper. */
function copyMetadata(from: object, to: object): void {
  for (const key of Reflect.getOwnMetadataKeys(from)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, from), to);
  }
}

/**
 * How the method returns, from `design:returntype` (tsc and SWC both emit `Promise` for an `async` method
 * without an annotation) or, when there is no such metadata (esbuild, or an annotation such as `void`
 * that emits none), from the method being an `async` function.
 */
function returnKindOf(target: object, propertyKey: string | symbol, method: Method): CachedMethodReturnKind {
  const type: unknown = Reflect.getMetadata('design:returntype', target, propertyKey);
  if (type === Promise) return 'promise';
  if (type === Observable || (typeof type === 'function' && type.name === 'Observable')) return 'observable';
  if (method.constructor.name === 'AsyncFunction') return 'promise';
  return type === undefined ? 'unknown' : 'sync';
}

interface CheckedOptions {
  cache?: string;
  key?: CacheKeyOption | readonly CacheKeyOption[];
  type?: unknown;
  ttl?: Duration;
  timeoutMs?: number;
  hardTimeoutMs?: number;
}

/** Throws for an option that cannot be used; returns the options with `ttl` in whole milliseconds. */
function validateOptions<O extends CheckedOptions>(decoratorName: string, options: O): O {
  if (options.cache !== undefined && !(typeof options.cache === 'string' && options.cache !== '')) {
    throw new TypeError(INVALID_DECORATOR_CACHE_NAME(decoratorName, options.cache));
  }
  const keys = Array.isArray(options.key) ? options.key : options.key === undefined ? [] : [options.key];
  for (const key of keys as unknown[]) {
    if (!(typeof key === 'function' || (typeof key === 'string' && key !== ''))) throw new TypeError(INVALID_DECORATOR_KEY(decoratorName, key));
  }
  if (options.timeoutMs !== undefined && !isTimerDelay(options.timeoutMs)) {
    throw new RangeError(INVALID_DECORATOR_TIMEOUT(decoratorName, options.timeoutMs));
  }
  if (options.hardTimeoutMs !== undefined && !isTimerDelay(options.hardTimeoutMs)) {
    throw new RangeError(INVALID_DECORATOR_HARD_TIMEOUT(decoratorName, options.hardTimeoutMs));
  }
  if (options.type !== undefined) assertCachedType(options.type, `${decoratorName} option "type"`);
  if (options.ttl === undefined) return options;
  let ttl: number;
  try {
    ttl = validTtl(options.ttl);
  } catch (error) {
    throw new LayeredCacheError(INVALID_DECORATOR_TTL(decoratorName, options.ttl), { cause: error });
  }
  return ttl === options.ttl ? options : { ...options, ttl };
}

function isTimerDelay(ms: unknown): boolean {
  return typeof ms === 'number' && ms > 0 && ms <= MAX_TIMER_MS;
}
