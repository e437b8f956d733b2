import { type DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { LayeredCacheMetadataAccessor } from './layered-cache-metadata.accessor.js';
import { LayeredCacheExplorer } from './layered-cache.explorer.js';
import { ConfigurableModuleClass, OPTIONS_TYPE } from './layered-cache.module-definition.js';
import { LayeredCacheOrchestrator } from './layered-cache.orchestrator.js';
import { createLayeredCacheProviders } from './layered-cache.providers.js';

/**
 * Registers a two-layer cache: L1 and L2 stores, read/write/refill policies, the offload service and
 * `LayeredCache`, each under an exported token you can replace, and serves `@Cacheable`, `@CacheWrite`
 * and `@CacheEvict` methods of the application's providers.
 *
 * @example
 * \@Module({
 *   imports: [
 *     LayeredCacheModule.forRoot({ isGlobal: true, namespace: 'shop', l2: { url: process.env.REDIS_URL } }),
 *     // A second, named cache with its own layers: @InjectLayeredCache('reports'), @Cacheable({ cache: 'reports' }).
 *     LayeredCacheModule.forRoot({ isGlobal: true, name: 'reports', ttl: 600_000 }),
 *   ],
 * })
 * export class AppModule {}
 */
@Module({
  imports: [DiscoveryModule],
  providers: [...createLayeredCacheProviders(), LayeredCacheMetadataAccessor, LayeredCacheExplorer, LayeredCacheOrchestrator],
})
export class LayeredCacheModule extends ConfigurableModuleClass {
  /** Registers the cache; every option is optional, so `forRoot()` gives an L1-only cache with defaults. */
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
