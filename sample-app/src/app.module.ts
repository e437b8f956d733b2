import { type DynamicModule, Module } from '@nestjs/common';
import { LayeredCacheModule } from '../../lib';
import { CacheStatsController } from './cache-stats/cache-stats.controller';
import { CatalogModule } from './catalog/catalog.module';
import { MetricsModule } from './metrics/metrics.module';

/** Options of the sample application. */
export interface SampleAppOptions {
  /** Redis URL for the shared layer; without it the cache runs in process memory only. */
  redisUrl?: string;
  namespace?: string;
  /** Serve the cache's metrics for Prometheus on this loopback port; without it, no metrics are reported. */
  metricsPort?: number;
}

@Module({})
export class AppModule {
  static register({ redisUrl, namespace = 'sample-app', metricsPort }: SampleAppOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LayeredCacheModule.forRoot({
          isGlobal: true,
          namespace,
          ttl: 60_000,
          l2: redisUrl ? { url: redisUrl } : false,
        }),
        CatalogModule.register({ redisUrl, namespace }),
        ...(metricsPort === undefined ? [] : [MetricsModule.register(metricsPort)]),
      ],
      controllers: [CacheStatsController],
    };
  }
}
