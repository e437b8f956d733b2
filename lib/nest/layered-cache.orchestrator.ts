import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CacheEventBus } from '../core/cache-events.js';
import { LayeredCache } from '../engine/layered-cache.js';
import type { LayeredCacheModuleOptions } from './interfaces/layered-cache-module-options.interface.js';
import { L1_STORE, L2_STORE, LAYERED_CACHE_NAME, LAYERED_CACHE_OPTIONS, REGISTERED_CACHE } from './layered-cache.constants.js';
import { LayeredCacheExplorer } from './layered-cache.explorer.js';
import { CacheFailureLog } from './layered-cache.failure-log.js';
import { LAYERS_STARTED, SHUTDOWN_LEFT_WORK } from './layered-cache.messages.js';
import { MODULE_OWNED_STORES } from './layered-cache.providers.js';
import { OffloadService } from '../offload/offload.service.js';
import type { CacheStore } from '../stores/cache-store.interface.js';

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;

/**
 * The module's lifecycle: says which layers run and binds decorated methods on startup; on shutdown
 * drains accepted background writes, then replays the L2 writes kept while L2 was failing (both within
 * `shutdownTimeoutMs`), then closes the stores the module created and logs the failures counted since
 * the last summary.
 */
@Injectable()
export class LayeredCacheOrchestrator implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('LayeredCache');

  constructor(
    private readonly explorer: LayeredCacheExplorer,
    private readonly offload: OffloadService,
    private readonly events: CacheEventBus,
    @Inject(REGISTERED_CACHE) private readonly cache: LayeredCache,
    @Inject(LAYERED_CACHE_OPTIONS) private readonly options: LayeredCacheModuleOptions,
    @Inject(L1_STORE) private readonly l1: CacheStore,
    @Inject(L2_STORE) private readonly l2: CacheStore | null,
    @Inject(MODULE_OWNED_STORES) private readonly owned: WeakMap<CacheStore, string>,
    private readonly failures: CacheFailureLog,
    @Inject(LAYERED_CACHE_NAME) private readonly name: string,
  ) {}

  async onModuleInit(): Promise<void> {
    this.explorer.explore();
    // Bounded: the bus lets the application start when Redis is not reachable yet, and says so.
    await this.cache.invalidationStarted;
    const l2 = this.l2 === null ? undefined : this.describe(this.l2);
    this.logger.log(LAYERS_STARTED(this.name, this.describe(this.l1), l2, this.cache.store.invalidation?.description, this.options.l1MaxTtl));
  }

  async beforeApplicationShutdown(): Promise<void> {
    const timeoutMs = this.options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const result = await this.offload.shutdown(timeoutMs);
    if (!result.drained) this.logger.error(SHUTDOWN_LEFT_WORK(result.pending));
    // Writes that failed on L2 while draining were kept: replay them with the time that is left.
    await this.cache.store.shutdown(Math.max(0, deadline - Date.now()));
  }

  async onApplicationShutdown(): Promise<void> {
    // After the replays of beforeApplicationShutdown, which announce what they write.
    await this.cache.store.closeInvalidation();
    await Promise.allSettled([this.l1, this.l2].filter((s): s is CacheStore => s !== null && this.owned.has(s)).map((s) => s.close?.()));
    this.failures.close();
    this.events.close();
  }

  /** A store the module created is described from its options; one handed in (or overridden) by its class. */
  private describe(store: CacheStore): string {
    const described = this.owned.get(store);
    if (described !== undefined) return described;
    const className: unknown = (Object.getPrototypeOf(store) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    // A plain object literal has no class worth naming.
    return typeof className === 'string' && className !== '' && className !== 'Object' ? className : 'a custom CacheStore';
  }
}
