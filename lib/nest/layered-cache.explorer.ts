import { Inject, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { CachedMethodRunner, type KeyClass, keyClassOf, usesDefaultKey } from './decorators/cached-method.runner.js';
import type { CachedMethodDefinition } from './decorators/cached-method.definition.js';
import { LayeredCacheMetadataAccessor } from './layered-cache-metadata.accessor.js';
import { CACHED_METHOD_RUNNERS, DEFAULT_CACHE_NAME, LAYERED_CACHE_NAME } from './layered-cache.constants.js';
import {
  CACHE_REGISTERED_TWICE,
  DEFAULT_KEY_CLASS_NAME_CLASH,
  INSTANCE_SERVED_TWICE,
  NO_DEFAULT_CACHE,
  NON_STATIC_PROVIDER,
  SYNC_CACHEABLE_METHOD,
  UNKNOWN_CACHE_NAME,
  UNKNOWN_RESULT_CACHEABLE_METHOD,
} from './layered-cache.messages.js';

/** A class whose instances cache under default keys, and where the application provides it. */
interface DefaultKeyUser {
  readonly keyClass: KeyClass;
  readonly where: string;
}

/** Where the module keeps the runners that serve an instance, by cache name. */
type ServedInstance = { [CACHED_METHOD_RUNNERS]?: Map<string, CachedMethodRunner> };

/** The name of the cache that serves a definition. */
const cacheNameOf = (definition: CachedMethodDefinition): string => definition.options.cache ?? DEFAULT_CACHE_NAME;

/**
 * Finds the providers and controllers with decorated methods at startup, checks that each can be served
 * by a cache of the application, and puts this cache's runner on each instance whose methods use it.
 */
@Injectable()
export class LayeredCacheExplorer {
  private readonly logger = new Logger('LayeredCache');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly metadata: LayeredCacheMetadataAccessor,
    private readonly runner: CachedMethodRunner,
    @Inject(LAYERED_CACHE_NAME) private readonly name: string,
  ) {}

  /**
   * Binds every instance with methods this cache serves; throws a clear error for one that cannot be
   * served, and for a method that names a cache the application does not register.
   */
  explore(): number {
    const providers = this.discovery.getProviders();
    const registered = providers.filter((wrapper) => wrapper.token === LAYERED_CACHE_NAME).map((wrapper) => wrapper.instance as string);
    if (registered.filter((name) => name === this.name).length > 1) throw new Error(CACHE_REGISTERED_TWICE(this.name));
    let bound = 0;
    const defaultKeyUsers = new Map<string, DefaultKeyUser>();
    for (const wrapper of [...providers, ...this.discovery.getControllers()]) {
      if (!wrapper.isDependencyTreeStatic()) {
        this.rejectNonStatic(wrapper);
        continue;
      }
      for (const instance of this.instancesOf(wrapper)) {
        const all = this.definitionsOf(Object.getPrototypeOf(instance));
        this.checkCacheNames(all, registered);
        const definitions = all.filter((definition) => cacheNameOf(definition) === this.name);
        if (definitions.length === 0) continue;
        this.validate(definitions);
        if (definitions.some(usesDefaultKey)) this.claimClassName(defaultKeyUsers, keyClassOf(instance), wrapper);
        this.bind(instance, wrapper);
        bound++;
      }
    }
    return bound;
  }

  /** Every cache a decorated method names must be registered, or the method would run uncached. */
  private checkCacheNames(definitions: readonly CachedMethodDefinition[], registered: readonly string[]): void {
    for (const definition of definitions) {
      const name = cacheNameOf(definition);
      if (registered.includes(name)) continue;
      const { decorator, className, methodName } = definition.common;
      const named = registered.filter((known) => known !== DEFAULT_CACHE_NAME);
      throw new Error(name === DEFAULT_CACHE_NAME ? NO_DEFAULT_CACHE(decorator, className, methodName, named) : UNKNOWN_CACHE_NAME(decorator, className, methodName, name, named));
    }
  }

  /**
   * Default keys start with the class name, so two distinct classes of one name would read and overwrite
   * each other's entries: the second one is refused.
   */
  private claimClassName(users: Map<string, DefaultKeyUser>, keyClass: KeyClass, wrapper: InstanceWrapper): void {
    const where = wrapper.host?.name === undefined ? `provider ${String(wrapper.name)}` : `provided by module ${wrapper.host.name}`;
    const first = users.get(keyClass.name);
    if (first === undefined) {
      users.set(keyClass.name, { keyClass, where });
      return;
    }
    if (first.keyClass !== keyClass) throw new Error(DEFAULT_KEY_CLASS_NAME_CLASH(keyClass.name, first.where, where));
  }

  private definitionsOf(prototype: unknown): CachedMethodDefinition[] {
    if (typeof prototype !== 'object' || prototype === null || prototype === Object.prototype) return [];
    const record = prototype as Record<string, unknown>;
    return this.scanner.getAllMethodNames(prototype).flatMap((name) => [...this.metadata.getDefinitions(record[name])]);
  }

  private rejectNonStatic(wrapper: InstanceWrapper): void {
    const metatype: unknown = wrapper.metatype;
    if (typeof metatype !== 'function' || wrapper.inject) return;
    const definitions = this.definitionsOf((metatype as { prototype?: unknown }).prototype);
    if (definitions.length === 0) return;
    const { className, methodName } = definitions[0].common;
    throw new Error(NON_STATIC_PROVIDER(className, methodName));
  }

  private validate(definitions: CachedMethodDefinition[]): void {
    for (const { kind, common } of definitions) {
      if (kind === 'cacheable' && common.returns === 'sync') {
        throw new Error(SYNC_CACHEABLE_METHOD(common.className, common.methodName));
      }
      // Without metadata and not async, the method may return a plain value, which would become a Promise.
      if (kind === 'cacheable' && common.returns === 'unknown') {
        throw new Error(UNKNOWN_RESULT_CACHEABLE_METHOD(common.className, common.methodName));
      }
    }
  }

  private instancesOf(wrapper: InstanceWrapper): object[] {
    const instances: unknown[] = wrapper.isTransient ? wrapper.getStaticTransientInstances().map((host) => host?.instance) : [wrapper.instance];
    return instances.filter((instance): instance is object => typeof instance === 'object' && instance !== null);
  }

  private bind(instance: object, wrapper: InstanceWrapper): void {
    const target = instance as ServedInstance;
    let runners = target[CACHED_METHOD_RUNNERS];
    const current = runners?.get(this.name);
    if (current === this.runner) return;
    if (current !== undefined) throw new Error(INSTANCE_SERVED_TWICE(String(wrapper.name), this.name));
    if (runners === undefined) {
      runners = new Map();
      Object.defineProperty(instance, CACHED_METHOD_RUNNERS, { value: runners, enumerable: false, configurable: true, writable: false });
    }
    runners.set(this.name, this.runner);
    this.logger.debug?.(`Serving cached methods of ${String(wrapper.name)}${this.name === DEFAULT_CACHE_NAME ? '' : ` with the cache "${this.name}"`}`);
  }
}
