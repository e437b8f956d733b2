import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import { Cacheable, LayeredCache, LayeredCacheError, LayeredCacheModule, MemoryStore, RedisStore } from 'nestjs-layered-cache';
import { ChaosError, ChaosStore } from 'nestjs-layered-cache/testing';

/*
 * An application that uses the packed nestjs-layered-cache as a user's would, from its own node_modules. The
 * consumer spec compiles this file once as CommonJS and once as an ES module (the app folder's package.json
 * "type" decides), runs it as a Node process and reads the JSON report it prints.
 */

@Injectable()
class PriceService {
  calls = 0;

  @Cacheable({ key: (sku: string) => `price:${sku}` })
  async price(sku: string): Promise<{ sku: string; cents: number }> {
    this.calls += 1;
    return { sku, cents: 1999 };
  }
}

// The L1 comes from the ./testing entry and wraps a store of the main entry.
const l1 = new ChaosStore(new MemoryStore());

@Module({
  imports: [LayeredCacheModule.forRoot({ namespace: process.env.CACHE_NAMESPACE, l2: { url: process.env.REDIS_URL }, l1 })],
  providers: [PriceService],
})
class AppModule {}

const requireFromApp = createRequire(process.argv[1]);
const packageFolder = relative(process.cwd(), requireFromApp.resolve('nestjs-layered-cache/package.json').replace(/package\.json$/, ''));

/** What each entry of the exports map gives to `import()` and to `require()`. */
async function loadEntries(): Promise<Record<string, { exports: string[]; requireLoads: string; sameForImportAndRequire: boolean }>> {
  const { exports } = requireFromApp('nestjs-layered-cache/package.json') as { exports: Record<string, unknown> };
  const entries: Record<string, { exports: string[]; requireLoads: string; sameForImportAndRequire: boolean }> = {};
  for (const subpath of Object.keys(exports).filter((subpath) => subpath !== './package.json')) {
    const specifier = `nestjs-layered-cache${subpath.slice(1)}`;
    const imported = (await import(specifier)) as Record<string, unknown>;
    const required = requireFromApp(specifier) as Record<string, unknown>;
    const names = Object.keys(imported).filter((name) => name !== 'default' && name !== 'module.exports');
    entries[subpath] = {
      exports: names.sort(),
      requireLoads: relative(packageFolder, requireFromApp.resolve(specifier)),
      sameForImportAndRequire: names.every((name) => imported[name] === required[name]),
    };
  }
  return entries;
}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  try {
    const prices = app.get(PriceService);
    const cache = app.get(LayeredCache);
    const results = [await prices.price('sku-1'), await prices.price('sku-1')];
    // ioredis, an optional peer, is loaded only when a store asks for it, from whichever build is running.
    const ioredis = new RedisStore({ url: process.env.REDIS_URL, driver: 'ioredis' });
    const ioredisAnswered = (await ioredis.get(cache.fullKey('absent'))) === undefined;
    await ioredis.close();
    const report = {
      format: typeof require === 'function' ? 'commonjs' : 'module',
      nest: (requireFromApp('@nestjs/core/package.json') as { version: string }).version,
      results,
      methodCalls: prices.calls,
      l1Calls: l1.stats().calls,
      fullKey: cache.fullKey('price:sku-1'),
      ioredisAnswered,
      testingErrorsAreLayeredCacheErrors: new ChaosError('get', 'k') instanceof LayeredCacheError,
      entries: await loadEntries(),
    };
    process.stdout.write(JSON.stringify(report));
  } finally {
    // Closing also on failure lets the process end (the Redis connections would keep it running).
    await app.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
