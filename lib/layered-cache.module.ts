import { type DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CacheEventBus } from './core/cache-events';
import { LayeredCache } from './core/layered-cache';
import { LayeredCacheMetadataAccessor } from './layered-cache-metadata.accessor';
import { LAYERED_CACHE_OPTIONS } from './layered-cache.constants';
import { LayeredCacheExplorer } from './layered-cache.explorer';
import { ConfigurableModuleClass, OPTIONS_TYPE } from './layered-cache.module-definition';
import { LayeredCacheOrchestrator } from './layered-cache.orchestrator';
import { createLayeredCacheProviders } from './layered-cache.providers';
import { OffloadService } from './offload/offload.service';
import { READ_POLICY } from './policies/read/read-policy.interface';
import { REFILL_POLICY } from './policies/refill/refill-policy';
import { WRITE_POLICY } from './policies/write/write-policy.interface';
import { L1_STORE, L2_STORE } from './stores/cache-store.interface';

/**
 * Registers a two-layer cache: L1 and L2 stores, read/write/refill policies, the offload service and
 * `LayeredCache`, each under an exported token you can replace, and serves `@Cacheable`, `@CacheWrite`
 * and `@CacheEvict` methods of the application's providers.
 *
 * @example
 * \@Module({
 *   imports: [LayeredCacheModule.forRoot({ isGlobal: true, namespace: 'shop', l2: { url: process.env.REDIS_URL } })],
 * })
 * export class AppModule {}
 */
@Module({
  imports: [DiscoveryModule],
  providers: [...createLayeredCacheProviders(), LayeredCacheMetadataAccessor, LayeredCacheExplorer, LayeredCacheOrchestrator],
  exports: [LAYERED_CACHE_OPTIONS, L1_STORE, L2_STORE, READ_POLICY, WRITE_POLICY, REFILL_POLICY, OffloadService, LayeredCache, CacheEventBus],
})
export class LayeredCacheModule extends ConfigurableModuleClass {
  /** Registers the cache; every option is optional, so `forRoot()` gives an L1-only cache with defaults. */
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
