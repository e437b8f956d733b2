import { CACHE_MANAGER, CacheInterceptor, CacheKey, type CacheManagerOptions, CacheModule, CacheTTL } from '@nestjs/cache-manager';
import { Controller, Get, Injectable, type INestApplication, Param, UseInterceptors } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyvLayeredCache, LayeredCache, LayeredCacheModule } from '../../lib';
import { RELAXED_L2_TIME_LIMIT } from '../support/app';
import { eventually, holdsEntry, rawRedisForFile, REDIS_URL, sleep, uniqueNamespace } from '../support/redis';

@Injectable()
class Catalog {
  loads = 0;
}

@Controller('products')
@UseInterceptors(CacheInterceptor)
class ProductsController {
  constructor(private readonly catalog: Catalog) {}

  @Get('featured')
  @CacheKey('featured-products')
  @CacheTTL(200)
  featured(): { featured: string[]; loads: number } {
    return { featured: ['lamp', 'desk'], loads: ++this.catalog.loads };
  }

  @Get(':id')
  findOne(@Param('id') id: string): { id: string; loads: number } {
    return { id, loads: ++this.catalog.loads };
  }
}

describe('@nestjs/cache-manager on the layers (CacheModule, CACHE_MANAGER, CacheInterceptor through KeyvLayeredCache)', () => {
  const redis = rawRedisForFile();
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  /**
   * keyv ships CommonJS and ES declarations of one class. @nestjs/cache-manager 12, an ES module, names the
   * ES one, and this spec is type-checked as CommonJS, so its Keyv is the other declaration of the same class.
   */
  const keyvStores = (...stores: Keyv[]): CacheManagerOptions['stores'] => stores as unknown as CacheManagerOptions['stores'];

  /** An HTTP app with LayeredCacheModule (L1 + Redis in `namespace`) and CacheModule running on it. */
  async function boot(namespace: string) {
    if (!redis.namespaces.includes(namespace)) redis.namespaces.push(namespace);
    const moduleRef = await Test.createTestingModule({
      imports: [
        LayeredCacheModule.forRoot({ isGlobal: true, namespace, l2: { url: REDIS_URL }, resilience: RELAXED_L2_TIME_LIMIT }),
        CacheModule.registerAsync({
          inject: [LayeredCache],
          useFactory: (cache: LayeredCache) => ({ stores: keyvStores(new Keyv(KeyvLayeredCache.keyvOptions(cache, { namespace: 'http' }))) }),
        }),
      ],
      controllers: [ProductsController],
      providers: [Catalog],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    apps.push(app);
    return { app, server: app.getHttpServer(), cacheManager: app.get<Cache>(CACHE_MANAGER), catalog: app.get(Catalog) };
  }

  /** The Redis key of `key` in the Keyv namespace `http` of the cache namespace `namespace`. */
  const redisKey = (namespace: string, key: string): string => `${namespace}:keyv:http:${key}`;
  const heldInRedis = async (key: string): Promise<boolean> => holdsEntry(await redis.client().get(key));

  it('CACHE_MANAGER gets, sets with a TTL in milliseconds and deletes on the layers, Dates intact', async () => {
    const namespace = uniqueNamespace('nest-cache-manager');
    const { cacheManager } = await boot(namespace);
    const session = { user: 'ada', since: new Date('2026-01-01T00:00:00.000Z') };
    await cacheManager.set('session:1', session, 5_000);
    const pttl = await redis.client().pTTL(redisKey(namespace, 'session:1'));
    expect(pttl).toBeGreaterThan(4_000);
    expect(pttl).toBeLessThanOrEqual(5_000);
    const read = await cacheManager.get<typeof session>('session:1');
    expect(read).toEqual(session);
    expect(read?.since).toBeInstanceOf(Date);
    await cacheManager.del('session:1');
    expect(await cacheManager.get('session:1')).toBeUndefined();
    expect(await heldInRedis(redisKey(namespace, 'session:1'))).toBe(false);
  });

  it('CacheInterceptor caches a GET under its @CacheKey for its @CacheTTL in milliseconds, in L1 as in Redis', async () => {
    const namespace = uniqueNamespace('nest-cache-ttl');
    const { server } = await boot(namespace);
    const first = await request(server).get('/products/featured');
    expect(first.body).toEqual({ featured: ['lamp', 'desk'], loads: 1 });
    expect(first.headers['x-cache']).toBe('MISS');
    // The interceptor writes after the response has been sent.
    expect(await eventually(() => heldInRedis(redisKey(namespace, 'featured-products')))).toBe(true);
    const pttl = await redis.client().pTTL(redisKey(namespace, 'featured-products'));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(200);
    const second = await request(server).get('/products/featured');
    expect(second.body).toEqual({ featured: ['lamp', 'desk'], loads: 1 });
    expect(second.headers['x-cache']).toBe('HIT');
    await sleep(250);
    const afterTtl = await request(server).get('/products/featured');
    expect(afterTtl.headers['x-cache']).toBe('MISS');
    expect(afterTtl.body.loads).toBe(2);
  });

  it("CacheInterceptor keys a GET without @CacheKey by its URL, for the cache's default TTL", async () => {
    const namespace = uniqueNamespace('nest-cache-url');
    const { server, app } = await boot(namespace);
    expect((await request(server).get('/products/7')).body).toEqual({ id: '7', loads: 1 });
    expect(await eventually(() => heldInRedis(redisKey(namespace, '/products/7')))).toBe(true);
    const defaultTtl = app.get(LayeredCache).defaultTtl;
    const pttl = await redis.client().pTTL(redisKey(namespace, '/products/7'));
    expect(pttl).toBeGreaterThan(defaultTtl - 5_000);
    expect(pttl).toBeLessThanOrEqual(defaultTtl);
    const again = await request(server).get('/products/7');
    expect(again.body).toEqual({ id: '7', loads: 1 });
    expect(again.headers['x-cache']).toBe('HIT');
  });

  it('a second instance serves what the first cached, through Redis, and hears of its deletes', async () => {
    const namespace = uniqueNamespace('nest-cache-instances');
    const first = await boot(namespace);
    const second = await boot(namespace);
    expect((await request(first.server).get('/products/9')).body).toEqual({ id: '9', loads: 1 });
    expect(await eventually(() => heldInRedis(redisKey(namespace, '/products/9')))).toBe(true);
    const fromSecond = await request(second.server).get('/products/9');
    expect(fromSecond.headers['x-cache']).toBe('HIT');
    expect(fromSecond.body).toEqual({ id: '9', loads: 1 });
    expect(second.catalog.loads).toBe(0);

    await first.cacheManager.set('flag', { on: true, at: new Date(0) }, 5_000);
    expect(await second.cacheManager.get('flag')).toEqual({ on: true, at: new Date(0) });
    await first.cacheManager.del('flag');
    // The second instance's L1 copy is dropped when the invalidation arrives.
    expect(await eventually(async () => (await second.cacheManager.get('flag')) === undefined)).toBe(true);
  });
});
