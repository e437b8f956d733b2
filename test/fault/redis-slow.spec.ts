import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { LayeredCache } from '../../lib';
import { decodeStoredText } from '../../lib/core/envelope';
import { createTestApp } from '../support/app';
import { uniqueNamespace } from '../support/redis';
import { RedisServer } from '../support/redis-server';
import { TcpProxy } from '../support/tcp-proxy';

/*
 * A slow Redis is not a dead one. Behind a proxy that delays every reply by 150 ms, 300 ms or 1 s, a writer
 * issues 200 writes a second over 1 000 keys while a reader reads them: no caller waits past its time limit
 * (the cache's default 200 ms), Redis executes about one write per write the callers made (a write that
 * outlived its caller is not sent again while it may still land), and after app.close() every key holds the
 * last value written to it.
 */

const CALLER_LIMIT_MS = 200;
/** What a caller may wait beyond its limit on a busy 2-core machine. */
const SLACK_MS = 150;
const KEYS = 1_000;
const WRITES_PER_SECOND = 200;
const LOAD_MS = 2_000;

interface Counts {
  readonly writesExecuted: number;
}

/** How many versioned writes Redis executed: each runs one GETRANGE, inside the write script. */
async function writesExecuted(port: number): Promise<Counts> {
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  await client.connect();
  try {
    const stats = await client.info('commandstats');
    const getrange = /cmdstat_getrange:calls=(\d+)/.exec(stats);
    return { writesExecuted: getrange === null ? 0 : Number(getrange[1]) };
  } finally {
    client.destroy();
  }
}

describe('a slow Redis', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  for (const driver of ['node-redis', 'ioredis'] as const) {
    for (const delayMs of [150, 300, 1_000]) {
      it(`answering ${delayMs} ms late: callers within their limit, one write each, nothing older after close (${driver})`, { timeout: 60_000 }, async () => {
        const redis = await RedisServer.start();
        cleanups.push(() => redis.stop());
        const proxy = await TcpProxy.start(redis.port);
        cleanups.push(() => proxy.close());
        const namespace = uniqueNamespace(`slow-${delayMs}`);
        const app = await createTestApp({ cache: { namespace, l2: { url: proxy.url, driver }, invalidation: false, shutdownTimeoutMs: 15_000 } });
        let closed = false;
        cleanups.push(async () => {
          if (!closed) await app.close();
        });
        const cache = app.get(LayeredCache);
        // Connected first, then slowed: Redis gets slow under a running application.
        await cache.get('warm-up');
        proxy.delayReplies(delayMs);
        const before = await writesExecuted(redis.port);

        /** The value each key was last given, as a database would hold it. */
        const database = new Map<string, number>();
        const waits: number[] = [];
        const timed = async (call: () => Promise<unknown>): Promise<void> => {
          const started = performance.now();
          await call().catch(() => undefined);
          waits.push(performance.now() - started);
        };
        const pending: Promise<void>[] = [];
        let acknowledged = 0;
        let n = 0;
        const started = performance.now();
        while (performance.now() - started < LOAD_MS) {
          const key = `k${n % KEYS}`;
          const value = n++;
          database.set(key, value);
          pending.push(
            timed(async () => {
              await cache.set(key, value);
              acknowledged++;
            }),
          );
          pending.push(timed(() => cache.get(`k${(n * 7) % KEYS}`)));
          await new Promise((resolve) => setTimeout(resolve, 1_000 / WRITES_PER_SECOND));
        }
        await Promise.all(pending);
        await app.close();
        closed = true;

        expect(Math.max(...waits)).toBeLessThan(CALLER_LIMIT_MS + SLACK_MS);
        const executed = (await writesExecuted(redis.port)).writesExecuted - before.writesExecuted;
        expect(acknowledged).toBe(database.size === 0 ? 0 : n);
        // About one write executed per write the callers made: none sent again while it could still land.
        expect(executed / acknowledged).toBeLessThan(1.2);
        expect(executed).toBeGreaterThanOrEqual(database.size);

        const client = createClient({ url: redis.url });
        await client.connect();
        try {
          const older: string[] = [];
          for (const [key, value] of database) {
            const stored = await client.get(`${namespace}:${key}`);
            if ((stored === null ? undefined : decodeStoredText(stored)?.value) !== value) older.push(key);
          }
          expect(older).toEqual([]);
        } finally {
          client.destroy();
        }
      });
    }
  }
});
