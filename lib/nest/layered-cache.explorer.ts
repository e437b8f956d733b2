import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { CachedMethodRunner, type KeyClass, keyClassOf, usesDefaultKey } from './decorators/cached-method.runner.js';
import type { CachedMethodDefinition } from './decorators/cached-method.definition.js';
import { LayeredCacheMetadataAccessor } from './layered-cache-metadata.accessor.js';
import { CACHED_METHOD_RUNNER } from './layered-cache.constants.js';
import { DEFAULT_KEY_CLASS_NAME_CLASH, INSTANCE_SERVED_TWICE, NON_STATIC_PROVIDER, SYNC_CACHEABLE_METHOD, UNKNOWN_RESULT_CACHEABLE_METHOD } from './layered-cache.messages.js';

/** A class whose instances cache under default keys, and where the application provides it. */
interface DefaultKeyUser {
  readonly keyClass: KeyClass;
  readonly where: string;
}

/**
 * Finds the providers and controllers with decorated methods at startup, checks that each can be served,
 * and puts this application's runner on each instance.
 */
@Injectable()
export class LayeredCacheExplorer {
  private readonly logger = new Logger('LayeredCache');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly metadata: LayeredCacheMetadataAccessor,
    private readonly runner: CachedMethodRunner,
  ) {}

  /** Binds every decorated instance; throws a clear error for one that cannot be served. */
  explore(): number {
    let bound = 0;
    const defaultKeyUsers = new Map<string, DefaultKeyUser>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      if (!wrapper.isDependencyTreeStatic()) {
        this.rejectNonStatic(wrapper);
        continue;
      }
      for (const instance of this.instancesOf(wrapper)) {
        const definitions = this.definitionsOf(Object.getPrototypeOf(instance));
        if (definitions.length === 0) continue;
        this.validate(definitions);
        if (definitions.some(usesDefaultKey)) this.claimClassName(defaultKeyUsers, keyClassOf(instance), wrapper);
        this.bind(instance, wrapper);
        bound++;
      }
    }
    return bound;
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
    const target = instance as { [CACHED_METHOD_RUNNER]?: CachedMethodRunner };
    const current = target[CACHED_METHOD_RUNNER];
    if (current === this.runner) return;
    if (current !== undefined) throw new Error(INSTANCE_SERVED_TWICE(String(wrapper.name)));
    Object.defineProperty(instance, CACHED_METHOD_RUNNER, { value: this.runner, enumerable: false, configurable: true, writable: false });
    this.logger.debug?.(`Serving cached methods of ${String(wrapper.name)}`);
  }
}
