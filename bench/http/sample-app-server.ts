import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../../sample-app/src/app.module';

/**
 * Starts the sample app on a free loopback port with the namespace and Redis URL it is given, prints
 * `{"port": N}` once it listens, and closes cleanly on SIGTERM.
 */
async function main(): Promise<void> {
  const namespace = process.env.BENCH_NAMESPACE;
  if (namespace === undefined || namespace === '') throw new Error('BENCH_NAMESPACE is required, so that the app writes under the run prefix.');
  const app = await NestFactory.create(AppModule.register({ redisUrl: process.env.REDIS_URL, namespace }), { logger: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
  process.once('SIGTERM', () => {
    void app.close().then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
