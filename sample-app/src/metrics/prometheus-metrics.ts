import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { LayeredCache } from '../../../lib';
import { type LayeredCacheMetrics, instrumentLayeredCache } from '../../../lib/telemetry';

/** DI token of the port the metrics are served on. */
export const METRICS_PORT = Symbol('METRICS_PORT');

/**
 * Serves the cache's OpenTelemetry metrics for Prometheus at `http://127.0.0.1:<port>/metrics`, on loopback
 * only: put a Prometheus (or an agent) on the same host, or a proxy you control in front of it.
 */
@Injectable()
export class PrometheusMetrics implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SampleApp');
  private readonly exporter: PrometheusExporter;
  private readonly provider: MeterProvider;
  private metrics: LayeredCacheMetrics | undefined;

  constructor(
    @Inject(METRICS_PORT) private readonly port: number,
    @Inject(LayeredCache) private readonly cache: LayeredCache,
  ) {
    this.exporter = new PrometheusExporter({ host: '127.0.0.1', port, preventServerStart: true });
    this.provider = new MeterProvider({ readers: [this.exporter] });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.metrics = instrumentLayeredCache(this.cache, { meter: this.provider.getMeter('sample-app') });
    await this.exporter.startServer();
    this.logger.log(`Metrics for Prometheus on http://127.0.0.1:${this.port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.metrics?.stop();
    // Stops the exporter's HTTP server too.
    await this.provider.shutdown();
  }
}
