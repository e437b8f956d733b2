import { Injectable, Module } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { Cacheable, L1_STORE, type CacheStore, LayeredCache, type LayeredCacheModuleOptions } from '../../lib';
import { createTestApp } from '../support/app';
import { sleep, uniqueNamespace } from '../support/redis';
import { ownRedisForFile } from '../support/redis-server';

const MB = 1_000_000;

interface Product {
  readonly id: number;
  readonly sku: string;
  readonly name: string;
  readonly description: string;
  readonly price: number;
  readonly tags: readonly string[];
  readonly createdAt: Date;
}

/** A catalog whose JSON is a little over `bytes` long; every item holds a Date, so reading it revives them all. */
function catalog(bytes: number): Product[] {
  const items: Product[] = [];
  for (let id = 0; items.length * 240 < bytes; id++) {
    items.push({
      id,
      sku: `SKU-${id}`,
      name: `Product number ${id}`,
      description: 'A fine product with a longer description text, '.repeat(2),
      price: id * 1.25,
      tags: ['a', 'b', `t${id % 13}`],
      createdAt: new Date(1_700_000_000_000 + id),
    });
  }
  return items;
}

@Injectable()
class Catalog {
  loads = 0;
  value: Product[] = [];

  @Cacheable({ key: 'catalog' })
  async all(): Promise<Product[]> {
    this.loads++;
    return this.value;
  }
}

@Module({ providers: [Catalog] })
class CatalogModule {}

/**
 * Successful calls, from INFO commandstats, of the versioned write script (EVALSHA, or EVAL the first time)
 * and of SET, which Redis counts when the script runs it: one write of an entry is one of each.
 */
function writes(info: string): { scripts: number; sets: number } {
  const calls = { scripts: 0, sets: 0 };
  for (const match of info.matchAll(/^cmdstat_(set|eval|evalsha):calls=(\d+)(?:.*?rejected_calls=(\d+),failed_calls=(\d+))?/gm)) {
    const succeeded = Number(match[2]) - Number(match[3] ?? 0) - Number(match[4] ?? 0);
    if (match[1] === 'set') calls.sets += succeeded;
    else calls.scripts += succeeded;
  }
  return calls;
}

/** The writes Redis ran while `run` ran. */
async function writesDuring(info: () => Promise<string>, run: () => Promise<unknown>): Promise<{ scripts: number; sets: number }> {
  const before = writes(await info());
  await run();
  const after = writes(await info());
  return { scripts: after.scripts - before.scripts, sets: after.sets - before.sets };
}

/**
 * How long a bare JSON.parse of the JSON text of the entry that `read` fetches takes, as one flat string
 * (as a reply is) without the envelope's header and tag marker. The texts are let go before it returns,
 * so that the read measured next has no more garbage to collect than the parse had.
 */
async function bareParseMs(read: () => Promise<string | null>, atLeast: number): Promise<number> {
  const stored = (await read()) ?? '';
  expect(stored.length).toBeGreaterThan(atLeast);
  const json = Buffer.from(stored.slice(stored.indexOf('|0|') + 4)).toString();
  const started = performance.now();
  JSON.parse(json);
  return performance.now() - started;
}

describe('values of 1, 10 and 50 MB through a Nest app and a Redis of its own', () => {
  // Commands of other tests would blur the command counts: this file's Redis serves this file alone.
  const redis = ownRedisForFile();
  let app: TestingModule | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function boot(options: LayeredCacheModuleOptions) {
    app = await createTestApp({
      cache: {
        namespace: uniqueNamespace('big'),
        invalidation: false,
        ...options,
        l2: {
          url: redis.server.url,
          // Sending 50 MB to Redis and hearing back takes longer than the default 200 ms (a write of 50 MB
          // timed out at 200 ms and was kept for replay). Raised so that the test measures values, not the
          // time limit; the read of 50 MB needs the same.
          commandTimeoutMs: 10_000,
        },
        resilience: { timeoutMs: 10_000 },
      },
      imports: [CatalogModule],
    });
    const l1 = app.get<CacheStore>(L1_STORE);
    return { catalog: app.get(Catalog), cache: app.get(LayeredCache), clearL1: () => l1.clear?.() };
  }

  it.each([
    { size: 1, refusedByDefault: false },
    { size: 10, refusedByDefault: true },
    { size: 50, refusedByDefault: true },
  ])(
    '$size MB: refused at the default limit when larger, written once and read back with maxValueBytes raised, the read blocking the loop for a small multiple of a JSON.parse of its text',
    async ({ size, refusedByDefault }) => {
      const value = catalog(size * MB);

      const defaults = await boot({});
      defaults.catalog.value = value;
      const info = (): Promise<string> => redis.raw.info('commandstats');
      const once = { scripts: 1, sets: 1 };
      expect(await writesDuring(info, () => defaults.catalog.all())).toEqual(refusedByDefault ? { scripts: 0, sets: 0 } : once);
      expect(await defaults.cache.get('catalog')).toEqual(refusedByDefault ? undefined : value);
      await (app as TestingModule).close();

      const { catalog: service, cache, clearL1 } = await boot({ maxValueBytes: 64 * 1024 * 1024 });
      service.value = value;
      // The versioned write script is loaded into Redis by the first write: counted apart.
      await cache.set('warm-up', 1);
      expect(await writesDuring(info, async () => expect(await service.all()).toBe(value))).toEqual(once);

      const parseMs = await bareParseMs(() => redis.raw.get(cache.fullKey('catalog')), size * MB);

      await clearL1();
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const fromL2 = await service.all();
      // The monitor's timer records a block when it fires late, after it: give it a turn to fire.
      await sleep(20);
      delay.disable();
      const blockedMs = delay.max / 1e6;
      expect(service.loads).toBe(1);
      expect(fromL2).not.toBe(value);
      expect(fromL2).toEqual(value);
      expect(fromL2[0]?.createdAt).toBeInstanceOf(Date);
      // What blocks the loop beyond JSON.parse: node-redis joining the reply into one string, the depth
      // scan and the walk that revives the Dates (each a fraction of the parse), and the garbage collections
      // that building 50 MB of objects next to another 50 MB (the original value) sets off. About 1.2 times
      // the parse at 10 MB and 3 times at 50 MB on a 2-core machine: 5 times, plus 100 ms, is generous.
      expect(blockedMs, `parse ${parseMs.toFixed(0)} ms, blocked ${blockedMs.toFixed(0)} ms`).toBeLessThan(5 * parseMs + 100);
    },
    120_000,
  );
});
