import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { cacheSetupLine } from './cache-setup';
import { metricsPortFrom } from './metrics/metrics-port';

async function bootstrap(): Promise<void> {
  const logger = new Logger('SampleApp');
  // An empty REDIS_URL counts as unset: the app then says it runs on memory only rather than guessing a Redis.
  const redisUrl = process.env.REDIS_URL || undefined;
  // Set METRICS_PORT (e.g. 9464) to serve the cache's metrics for Prometheus on 127.0.0.1.
  const metricsPort = metricsPortFrom(process.env.METRICS_PORT);
  const app = await NestFactory.create(AppModule.register({ redisUrl, metricsPort }));
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, '127.0.0.1');
  logger.log(cacheSetupLine(redisUrl));
  logger.log(`Listening on http://127.0.0.1:${port}  (try GET /products/1, then GET /cache/stats)`);
}

void bootstrap();
