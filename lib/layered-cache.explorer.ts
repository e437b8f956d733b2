import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { CachedMethodRunner } from './decorators/cached-method.runner';
import type { CachedMethodDefinition } from './decorators/cached-method.definition';
import { LayeredCacheMetadataAccessor } from './layered-cache-metadata.accessor';
import { CACHED_METHOD_RUNNER } from './layered-cache.constants';
import { INSTANCE_SERVED_TWICE, NON_STATIC_PROVIDER, SYNC_CACHEABLE_METHOD } from './layered-cache.messages';

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
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      if (!wrapper.isDependencyTreeStatic()) {
        this.rejectNonStatic(wrapper);
        continue;
      }
      for (const instance of this.instancesOf(wrapper)) {
        const definitions = this.definitionsOf(Object.getPrototypeOf(instance));
        if (definitions.length === 0) continue;
        this.validate(definitions);
        this.bind(instance, wrapper);
        bound++;
      }
    }
    return bound;
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
