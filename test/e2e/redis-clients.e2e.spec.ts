import { Redis } from 'ioredis';
import IoRedisV6 from 'ioredis6';
import { createClient } from 'redis';
import { createClient as createClientV5 } from 'redis5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { L1_STORE, type CacheStore, type LayeredCacheModuleOptions, RedisStore } from '../../lib';
import { ProductService, productKey, sampleProduct } from '../fixtures/products';
import { createTestApp, RELAXED_L2_TIME_LIMIT } from '../support/app';
import { connectRawRedis, deleteKeys, type RawRedis, REDIS_URL, holdsEntry, uniqueNamespace } from '../support/redis';

describe('decorated methods over each Redis client', () => {
  let raw: RawRedis;
  const ioredis = new Redis(REDIS_URL, { lazyConnect: true });
  const ioredisV6 = new IoRedisV6(REDIS_URL, { lazyConnect: true });
  const nodeRedis = createClient({ url: REDIS_URL });
  const nodeRedisV5 = createClientV5({ url: REDIS_URL });
  const namespaces: string[] = [];

  beforeAll(async () => {
    raw = await connectRawRedis();
    await Promise.all([ioredis.connect(), ioredisV6.connect(), nodeRedis.connect(), nodeRedisV5.connect()]);
  });
  afterAll(async () => {
    await Promise.all(namespaces.map((ns) => deleteKeys(raw, ns)));
    await Promise.all([raw.quit(), ioredis.quit(), ioredisV6.quit(), nodeRedis.quit(), nodeRedisV5.quit()]);
  });

  it.each<{ label: string; l2: () => LayeredCacheModuleOptions['l2'] }>([
    { label: 'node-redis v6 from a URL (the default)', l2: () => ({ url: REDIS_URL }) },
    { label: 'ioredis from a URL', l2: () => ({ url: REDIS_URL, driver: 'ioredis' }) },
    { label: 'an existing ioredis client', l2: () => new RedisStore({ client: ioredis }) },
    { label: 'an existing node-redis client', l2: () => new RedisStore({ client: nodeRedis }) },
    { label: 'an existing node-redis v5 client', l2: () => new RedisStore({ client: nodeRedisV5 }) },
    { label: 'an existing ioredis v6 client', l2: () => new RedisStore({ client: ioredisV6 }) },
  ])('writes, reads back from L2 and evicts with $label', async ({ l2 }) => {
    const namespace = uniqueNamespace('clients');
    namespaces.push(namespace);
    const app = await createTestApp({ cache: { namespace, l2: l2(), resilience: RELAXED_L2_TIME_LIMIT } });
    const service = app.get(ProductService);
    const key = `${namespace}:${productKey('c1')}`;

    await service.save(sampleProduct('c1'));
    expect(await raw.exists(key)).toBe(1);
    await app.get<CacheStore>(L1_STORE).clear?.();
    expect(await service.findOne('c1')).toEqual(sampleProduct('c1'));
    expect(service.repository.calls.find).toBe(0);
    await service.remove('c1');
    expect(holdsEntry(await raw.get(key))).toBe(false);
    await app.close();
  });

  it('leaves a client it was given open when the application closes', async () => {
    const app = await createTestApp({ cache: { namespace: uniqueNamespace('owned'), l2: new RedisStore({ client: ioredis }) } });
    await app.close();
    expect(await ioredis.ping()).toBe('PONG');
  });
});
