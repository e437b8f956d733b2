import { type DynamicModule, Module } from '@nestjs/common';
import { METRICS_PORT, PrometheusMetrics } from './prometheus-metrics';

/** The sample's metrics: the cache's OpenTelemetry metrics, served for Prometheus on a loopback port. */
@Module({})
export class MetricsModule {
  static register(port: number): DynamicModule {
    return { module: MetricsModule, providers: [{ provide: METRICS_PORT, useValue: port }, PrometheusMetrics] };
  }
}
