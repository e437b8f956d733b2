import { Logger } from '@nestjs/common';
import { Observable } from 'rxjs';
import { CACHED_METHOD_METADATA, CACHED_METHOD_RUNNER } from '../layered-cache.constants';
import { INVALID_DECORATOR_KEY, INVALID_DECORATOR_TIMEOUT, INVALID_DECORATOR_TTL, METHOD_NOT_BOUND, NOT_A_METHOD } from '../layered-cache.messages';
import { MAX_TIMER_MS } from '../resilience/with-timeout';
import type { CachedMethodDefinition, CachedMethodReturnKind, CacheKeyOption } from './cached-method.definition';
import type { CachedMethodRunner } from './cached-method.runner';

type Method = (...args: unknown[]) => unknown;
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
  validateOptions(decoratorName, options);
  return (target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor) => {
    const className = (target as { constructor: { name: string } }).constructor.name;
    const methodName = String(propertyKey);
    const original: unknown = descriptor.value;
    if (typeof original !== 'function') throw new TypeError(NOT_A_METHOD(decoratorName, className, methodName));
    const definition = {
      kind,
      options,
      common: { className, methodName, returns: returnKindOf(target, propertyKey) },
    } as DefinitionOf<K>;
    const method = original as Method;
    let warned = false;
    const wrapper = function (this: object, ...args: unknown[]): unknown {
      const runner = (this as { [CACHED_METHOD_RUNNER]?: CachedMethodRunner } | undefined)?.[CACHED_METHOD_RUNNER];
      if (runner === undefined) {
        if (!warned) {
          warned = true;
          logger.warn(METHOD_NOT_BOUND(decoratorName, className, methodName));
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

function returnKindOf(target: object, propertyKey: string | symbol): CachedMethodReturnKind {
  const type: unknown = Reflect.getMetadata('design:returntype', target, propertyKey);
  if (type === undefined) return 'unknown';
  if (type === Promise) return 'promise';
  if (type === Observable || (typeof type === 'function' && type.name === 'Observable')) return 'observable';
  return 'sync';
}

function validateOptions(
  decoratorName: string,
  options: { key?: CacheKeyOption | readonly CacheKeyOption[]; ttl?: number; timeoutMs?: number },
): void {
  const keys = Array.isArray(options.key) ? options.key : options.key === undefined ? [] : [options.key];
  for (const key of keys as unknown[]) {
    if (!(typeof key === 'function' || (typeof key === 'string' && key !== ''))) throw new TypeError(INVALID_DECORATOR_KEY(decoratorName, key));
  }
  if (options.ttl !== undefined && (!Number.isFinite(options.ttl) || options.ttl < 0)) {
    throw new RangeError(INVALID_DECORATOR_TTL(decoratorName, options.ttl));
  }
  if (options.timeoutMs !== undefined && !(typeof options.timeoutMs === 'number' && options.timeoutMs > 0 && options.timeoutMs <= MAX_TIMER_MS)) {
    throw new RangeError(INVALID_DECORATOR_TIMEOUT(decoratorName, options.timeoutMs));
  }
}
