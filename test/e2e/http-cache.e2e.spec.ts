import { CacheKey as NestCacheKey, CacheTTL as NestCacheTTL } from '@nestjs/cache-manager';
import { Controller, Get, type INestApplication, Module, UseInterceptors } from '@nestjs/common';
import { ROUTE_ARGS_METADATA, SSE_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, type TestingModule } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheKey, CacheTTL, LayeredCache, LayeredCacheInterceptor, LayeredCacheModule, getLayeredCacheToken } from '../../lib';
import { NEST_NEXT_PARAM, NEST_RESPONSE_PARAM, NEST_ROUTE_ARGS_METADATA, NEST_SSE_METADATA } from '../../lib/nest/http/own-response';
import { AppModule } from '../fixtures/cache-sample/app.module';
import { HandlerCalls, SlowSource } from '../fixtures/cache-sample/handler-calls';
import { HttpCacheInterceptor } from '../fixtures/cache-sample/http-cache.interceptor';
import { ITEMS_TTL_MS, NEST_DECORATOR_TTL_MS, SHORT_TTL_MS } from '../fixtures/cache-sample/items.controller';
import { RELAXED_L2_TIME_LIMIT } from '../support/app';
import { CapturingLogger } from '../support/capturing-logger';
import { connectRawRedis, deleteKeys, eventually, holdsEntry, type RawRedis, REDIS_URL, uniqueNamespace } from '../support/redis';

/** The module's default TTL in this file, distinct from every route's. */
const MODULE_TTL_MS = 45_000;

const platforms = [
  { platform: 'Express', create: (moduleRef: TestingModule): INestApplication => moduleRef.createNestApplication({ logger: false }) },
  { platform: 'Fastify', create: (moduleRef: TestingModule): INestApplication => moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false }) },
];

describe.each(platforms)('sample/20-cache on L1 + Redis with LayeredCacheInterceptor ($platform)', ({ create }) => {
  const namespace = uniqueNamespace('http-cache');
  let app: INestApplication;
  let redis: RawRedis;
  let calls: HandlerCalls;
  const get = (path: string) => request(app.getHttpServer()).get(path);
  /** The Redis key of a cache key. */
  const stored = (key: string): string => `${namespace}:${key}`;
  /** The remaining life of a cache key's entry in Redis, in milliseconds, once the entry is there. */
  const pttl = async (key: string): Promise<number> => {
    expect(await eventually(async () => holdsEntry(await redis.get(stored(key))))).toBe(true);
    return redis.pTTL(stored(key));
  };

  beforeAll(async () => {
    redis = await connectRawRedis();
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.register({ namespace, ttl: MODULE_TTL_MS, l2: { url: REDIS_URL }, resilience: RELAXED_L2_TIME_LIMIT })],
    }).compile();
    app = create(moduleRef);
    // Listening (rather than init alone) lets concurrent supertest requests share one server address.
    await app.listen(0, '127.0.0.1');
    calls = app.get(HandlerCalls);
  });

  afterAll(async () => {
    await app?.close();
    await deleteKeys(redis, `${namespace}:`);
    await redis.quit();
  });

  it('serves the second GET from the cache: the handler ran once', async () => {
    const first = await get('/').expect(200);
    const second = await get('/').expect(200);
    expect(first.body).toEqual([{ id: 1, name: 'Nest' }]);
    expect(second.body).toEqual(first.body);
    expect(calls.of('findAll')).toBe(1);
    expect([first.headers['x-cache'], second.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    // Keyed by the URL under the namespace, for the module's TTL (the route and its controller set none).
    expect(await pttl('/')).toBeGreaterThan(MODULE_TTL_MS - 10_000);
    expect(await pttl('/')).toBeLessThanOrEqual(MODULE_TTL_MS);
  });

  it('keys by path and query string: another query is another entry', async () => {
    expect((await get('/items?page=1').expect(200)).body).toEqual({ calls: 1 });
    expect((await get('/items?page=2').expect(200)).body).toEqual({ calls: 2 });
    expect((await get('/items?page=1').expect(200)).body).toEqual({ calls: 1 });
  });

  it("honours @CacheTTL on a route (milliseconds) and on its controller, as Redis's PTTL shows", async () => {
    await get('/items/short').expect(200);
    const short = await pttl('/items/short');
    expect(short).toBeGreaterThan(0);
    expect(short).toBeLessThanOrEqual(SHORT_TTL_MS);
    await get('/items?page=3').expect(200);
    const controllerWide = await pttl('/items?page=3');
    expect(controllerWide).toBeGreaterThan(SHORT_TTL_MS);
    expect(controllerWide).toBeLessThanOrEqual(ITEMS_TTL_MS);
  });

  it('keeps a response of @CacheTTL(0) until it is evicted, as @nestjs/cache-manager does', async () => {
    await get('/items/forever').expect(200);
    expect(await pttl('/items/forever')).toBe(-1);
    await get('/items/forever').expect(200);
    expect(calls.of('forever')).toBe(1);
  });

  it('takes a TTL computed from the request by a @CacheTTL function', async () => {
    await get('/items/computed?ttl=2500').expect(200);
    const ttl = await pttl('/items/computed?ttl=2500');
    expect(ttl).toBeGreaterThan(SHORT_TTL_MS);
    expect(ttl).toBeLessThanOrEqual(2_500);
  });

  it('honours @CacheKey and @CacheTTL imported from @nestjs/cache-manager', async () => {
    await get('/items/nest-decorators').expect(200);
    await get('/items/nest-decorators').expect(200);
    expect(calls.of('nest-decorators')).toBe(1);
    const ttl = await pttl('nest-decorated');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(NEST_DECORATOR_TTL_MS);
  });

  it('caches a route with @CacheKey under that key, whatever the URL', async () => {
    expect((await get('/items/featured?page=1').expect(200)).body).toEqual({ calls: 1 });
    expect((await get('/items/featured?page=2').expect(200)).body).toEqual({ calls: 1 });
    expect(await pttl('featured-items')).toBeGreaterThan(0);
  });

  it('does not cache POST requests', async () => {
    const first = await request(app.getHttpServer()).post('/items').send({ name: 'a' }).expect(201);
    const second = await request(app.getHttpServer()).post('/items').send({ name: 'a' }).expect(201);
    expect([first.body, second.body]).toEqual([
      { name: 'a', calls: 1 },
      { name: 'a', calls: 2 },
    ]);
    expect(second.headers['x-cache']).toBeUndefined();
    expect(await redis.exists(stored('/items'))).toBe(0);
  });

  it('does not cache an error response: the next GET runs the handler, and its success is cached', async () => {
    await get('/items/flaky').expect(503);
    expect((await get('/items/flaky').expect(200)).body).toEqual({ calls: 2 });
    expect((await get('/items/flaky').expect(200)).body).toEqual({ calls: 2 });
    expect(calls.of('flaky')).toBe(2);
  });

  it('runs the handler once for concurrent GETs of a cold URL, and answers them all', async () => {
    const slow = app.get(SlowSource);
    const responses = Promise.all(Array.from({ length: 5 }, () => get('/items/slow').then((response) => response)));
    // Every request has passed the guards (and so reached the interceptor) before the handler may answer.
    expect(await eventually(() => slow.arrivals('slowList') === 5)).toBe(true);
    slow.open('slowList');
    const answered = await responses;
    expect(answered.map((response) => [response.status, response.body])).toEqual(Array.from({ length: 5 }, () => [200, { calls: 1 }]));
    expect(calls.of('slow')).toBe(1);
  });

  it('keys by its own trackBy in a subclass, as the sample HttpCacheInterceptor does', async () => {
    expect((await get('/tracked?utm_source=mail').expect(200)).body).toEqual({ calls: 1 });
    expect((await get('/tracked?utm_source=ads').expect(200)).body).toEqual({ calls: 1 });
    expect(await pttl('/tracked')).toBeGreaterThan(0);
    // Excluded by the subclass: never cached.
    expect((await get('/tracked/live').expect(200)).body).toEqual({ calls: 1 });
    expect((await get('/tracked/live').expect(200)).body).toEqual({ calls: 2 });
  });

  it('leaves a handler that writes to the response object alone, so its headers are sent every time', async () => {
    const first = await get('/items/passthrough').expect(200);
    const second = await get('/items/passthrough').expect(200);
    expect([first.headers['x-handler-call'], second.headers['x-handler-call']]).toEqual(['1', '2']);
    expect(second.body).toEqual({ calls: 2 });
  });

  it('leaves server-sent events alone: every request gets all the messages of its own stream', async () => {
    const first = await get('/items/events').expect(200);
    const second = await get('/items/events').expect(200);
    expect(first.text).toMatch(/data: first of call 1\n[\s\S]*data: second of call 1\n/);
    expect(second.text).toMatch(/data: first of call 2\n[\s\S]*data: second of call 2\n/);
  });

  it('does not cache a StreamableFile: every request gets the file', async () => {
    await expectFileEveryTime(get, calls);
  });

  it('gives concurrent requests of a StreamableFile route a file each', async () => {
    await expectFileForConcurrentRequests(app, get, calls);
  });
});

// An L1-only cache keeps values by reference, without the serializer that refuses a stream on the way to
// Redis: the interceptor itself must leave files out.
describe.each(platforms)('sample/20-cache on an L1-only cache ($platform)', ({ create }) => {
  let app: INestApplication;
  const get = (path: string) => request(app.getHttpServer()).get(path);

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.register({ namespace: uniqueNamespace('http-cache-l1'), l2: false })] }).compile();
    app = create(moduleRef);
    await app.listen(0, '127.0.0.1');
  });
  afterAll(() => app?.close());

  it('does not cache a StreamableFile: every request gets the file', async () => {
    await expectFileEveryTime(get, app.get(HandlerCalls));
  });

  it('gives concurrent requests of a StreamableFile route a file each', async () => {
    await expectFileForConcurrentRequests(app, get, app.get(HandlerCalls));
  });
});

type Get = (path: string) => request.Test;

async function expectFileEveryTime(get: Get, calls: HandlerCalls): Promise<void> {
  expect((await get('/items/file').expect(200)).text).toBe('file contents');
  expect((await get('/items/file').expect(200)).text).toBe('file contents');
  expect(calls.of('file')).toBe(2);
}

/** Requests that joined the first one's load get no share of its stream: each runs the handler for its own. */
async function expectFileForConcurrentRequests(app: INestApplication, get: Get, calls: HandlerCalls): Promise<void> {
  const slow = app.get(SlowSource);
  const responses = Promise.all(Array.from({ length: 3 }, () => get('/items/slow-file').then((response) => response)));
  expect(await eventually(() => slow.arrivals('slowFile') === 3)).toBe(true);
  slow.open('slowFile');
  const answered = await responses;
  expect(answered.map((response) => [response.status, response.text])).toEqual(Array.from({ length: 3 }, () => [200, 'file contents']));
  expect(calls.of('slow-file')).toBe(3);
}

describe('LayeredCacheInterceptor on a named cache', () => {
  @Controller('reports')
  @UseInterceptors(LayeredCacheInterceptor.for('reports'))
  class ReportsController {
    calls = 0;

    @Get()
    list(): { calls: number } {
      return { calls: ++this.calls };
    }
  }

  @Controller('tracked')
  @UseInterceptors(HttpCacheInterceptor.for('reports'))
  class TrackedReportsController {
    calls = 0;

    @Get()
    list(): { calls: number } {
      return { calls: ++this.calls };
    }
  }

  @Module({
    imports: [LayeredCacheModule.forRoot({ namespace: 'default' }), LayeredCacheModule.forRoot({ name: 'reports', namespace: 'reports' })],
    controllers: [ReportsController, TrackedReportsController],
  })
  class ReportsModule {}

  let app: INestApplication;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ReportsModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(() => app?.close());

  it('caches in the cache registered with forRoot({ name }), not in the default one', async () => {
    expect((await request(app.getHttpServer()).get('/reports').expect(200)).body).toEqual({ calls: 1 });
    expect((await request(app.getHttpServer()).get('/reports').expect(200)).body).toEqual({ calls: 1 });
    expect(await app.get<LayeredCache>(getLayeredCacheToken('reports')).get('/reports')).toEqual({ calls: 1 });
    expect(await app.get(LayeredCache).get('/reports')).toBeUndefined();
  });

  it("keeps a subclass's trackBy on the named cache, with one class per name", async () => {
    await request(app.getHttpServer()).get('/tracked?utm_source=mail').expect(200);
    expect((await request(app.getHttpServer()).get('/tracked?utm_source=ads').expect(200)).body).toEqual({ calls: 1 });
    expect(await app.get<LayeredCache>(getLayeredCacheToken('reports')).get('/tracked')).toEqual({ calls: 1 });
    expect(HttpCacheInterceptor.for('reports')).toBe(HttpCacheInterceptor.for('reports'));
    expect(HttpCacheInterceptor.for('reports')).not.toBe(LayeredCacheInterceptor.for('reports'));
    expect(HttpCacheInterceptor.for('reports').name).toBe('HttpCacheInterceptor(reports)');
  });
});

describe('a @CacheTTL that is not a number of milliseconds', () => {
  @Controller('rates')
  @UseInterceptors(LayeredCacheInterceptor)
  class RatesController {
    @Get()
    @CacheTTL(-1)
    list(): string[] {
      return ['EUR'];
    }
  }

  const logger = new CapturingLogger();
  let app: INestApplication;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [LayeredCacheModule.forRoot()], controllers: [RatesController] }).compile();
    app = moduleRef.createNestApplication({ logger });
    await app.init();
  });
  afterAll(() => app?.close());

  it('fails the request with an error that names the route and says what a TTL is', async () => {
    await request(app.getHttpServer()).get('/rates').expect(500);
    const reported = logger.lines.filter((line) => line.level === 'error').map((line) => line.message);
    expect(reported).toEqual([expect.stringContaining('@CacheTTL of RatesController.list gave -1 (number)')]);
    expect(reported[0]).toContain('@CacheTTL(5_000) is five seconds');
  });
});

describe('the metadata LayeredCacheInterceptor shares with Nest', () => {
  class Decorated {
    @CacheKey('key')
    @CacheTTL(5_000)
    ours(): void {}

    @NestCacheKey('key')
    @NestCacheTTL(5_000)
    theirs(): void {}
  }

  it('writes with our @CacheKey and @CacheTTL exactly what those of @nestjs/cache-manager write', () => {
    const metadataOf = (method: object) => Reflect.getMetadataKeys(method).map((key: unknown) => [key, Reflect.getMetadata(key, method)]);
    expect(metadataOf(Decorated.prototype.ours)).toEqual(metadataOf(Decorated.prototype.theirs));
    expect(metadataOf(Decorated.prototype.ours)).toHaveLength(2);
  });

  it("reads Nest's own route metadata keys and parameter types of the Nest it runs on", () => {
    expect([NEST_ROUTE_ARGS_METADATA, NEST_SSE_METADATA, NEST_RESPONSE_PARAM, NEST_NEXT_PARAM]).toEqual([ROUTE_ARGS_METADATA, SSE_METADATA, RouteParamtypes.RESPONSE, RouteParamtypes.NEXT]);
  });
});
