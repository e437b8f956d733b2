import { afterEach, describe, expect, it } from 'vitest';
import { CacheTimeoutError, RedisStore } from '../../lib';
import { ownRedisForFile } from '../support/redis-server';

describe.each([{ driver: 'node-redis' as const }, { driver: 'ioredis' as const }])('RedisStore.ping ($driver)', ({ driver }) => {
  const own = ownRedisForFile();
  const stores: RedisStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  it('resolves once Redis answers, and rejects at the command timeout while Redis hangs', async () => {
    const store = new RedisStore({ driver, url: own.server.url, commandTimeoutMs: 200 });
    stores.push(store);
    await expect(store.ping()).resolves.toBeUndefined();

    own.server.pause();
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(CacheTimeoutError);
    } finally {
      own.server.resume();
    }
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
