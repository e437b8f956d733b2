import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const logger = new Logger('SampleApp');
  const redisUrl = process.env.REDIS_URL;
  const app = await NestFactory.create(AppModule.register({ redisUrl }));
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, '127.0.0.1');
  logger.log(
    redisUrl
      ? `Cache: L1 in memory + L2 on Redis at ${redisUrl}`
      : 'Cache: REDIS_URL is not set, so the cache runs in process memory only (L1). Set REDIS_URL=redis://127.0.0.1:6379 to add the shared Redis layer.',
  );
  logger.log(`Listening on http://127.0.0.1:${port}  (try GET /products/1, then GET /cache/stats)`);
}

void bootstrap();
