import { Controller, Get, type INestApplication, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { getLayeredCacheToken, LayeredCache, LayeredCacheModule, type LayeredCacheModuleOptions, MemoryStore, OffloadService, RedisStore } from '../../lib';
import { LayeredCacheHealthIndicator, type LayeredCacheHealthOptions } from '../../lib/nest/health';
import { ChaosStore } from '../../lib/testing';
import { eventually, REDIS_URL, uniqueNamespace } from '../support/redis';
import { ownRedisForFile } from '../support/redis-server';
import { trackAppsOnRedis } from '../support/redis-apps';

const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');

@Controller('health')
class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(LayeredCacheHealthIndicator) private readonly cache: LayeredCacheHealthIndicator,
    @Inject(HEALTH_OPTIONS) private readonly options: LayeredCacheHealthOptions,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.cache.isHealthy('cache', this.options)]);
  }
}

/** The `cache` part of a Terminus health response. */
interface CacheHealthBody {
  status: string;
  l1: { entries?: number; bytes?: number };
  l2: { status: string; responseTimeMs?: number; error?: string };
  breaker?: string;
  replayBacklog: number;
  offloadBacklog: number;
  message?: string;
}

describe('LayeredCacheHealthIndicator behind a Terminus /health route', () => {
  const shared = trackAppsOnRedis();
  const own = ownRedisForFile();
  const apps: INestApplication[] = [];
  const stores: { close(): Promise<void> }[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  async function boot(cache: LayeredCacheModuleOptions, health: LayeredCacheHealthOptions = {}) {
    const namespace = uniqueNamespace('health');
    shared.track(undefined, namespace);
    const moduleRef = await Test.createTestingModule({
      imports: [LayeredCacheModule.forRoot({ isGlobal: true, namespace, shutdownTimeoutMs: 300, ...cache }), TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [LayeredCacheHealthIndicator, { provide: HEALTH_OPTIONS, useValue: health }],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    apps.push(app);
    const check = async (): Promise<{ httpStatus: number; status: string; cache: CacheHealthBody }> => {
      const response = await request(app.getHttpServer()).get('/health');
      const body = response.body as { status: string; details: { cache: CacheHealthBody } };
      return { httpStatus: response.status, status: body.status, cache: body.details.cache };
    };
    return { app, cache: app.get(LayeredCache), check };
  }

  it('reports L1 size, an answered L2 ping, a closed breaker and empty backlogs while all is well', async () => {
    const { cache, check } = await boot({ l2: { url: REDIS_URL }, l1: { maxBytes: 1_000_000 } });
    await cache.set('a', { name: 'first' });
    await cache.set('b', { name: 'second' });
    await cache.set('c', [1, 2, 3]);

    const health = await check();
    expect(health.httpStatus).toBe(200);
    expect(health.status).toBe('ok');
    expect(health.cache).toMatchObject({ status: 'up', l1: { entries: 3 }, l2: { status: 'up' }, breaker: 'closed', replayBacklog: 0, offloadBacklog: 0 });
    expect(health.cache.l1.bytes).toBeGreaterThan(0);
    expect(health.cache.l2.responseTimeMs).toBeGreaterThanOrEqual(0);
    expect(health.cache.message).toBeUndefined();
  });

  it('goes down while its Redis hangs, and comes back when Redis answers again', async () => {
    const { check } = await boot({ l2: { url: own.server.url } }, { timeoutMs: 300 });
    expect((await check()).httpStatus).toBe(200);

    own.server.pause();
    try {
      const down = await check();
      expect(down.httpStatus).toBe(503);
      expect(down.status).toBe('error');
      expect(down.cache).toMatchObject({ status: 'down', l2: { status: 'down' } });
      expect(down.cache.l2.error).toMatch(/no answer within 300 ms/);
      expect(down.cache.message).toMatch(/L2 did not answer the health check's ping/);
    } finally {
      own.server.resume();
    }
    const up = await check();
    expect(up.httpStatus).toBe(200);
    expect(up.cache.l2.status).toBe('up');
  });

  it('goes down while its Redis is stopped, and comes back once Redis is restarted', async () => {
    const { check } = await boot({ l2: { url: own.server.url } }, { timeoutMs: 500 });
    expect((await check()).httpStatus).toBe(200);

    await own.server.kill();
    try {
      const down = await check();
      expect(down.httpStatus).toBe(503);
      expect(down.cache).toMatchObject({ status: 'down', l2: { status: 'down' } });
    } finally {
      await own.server.restart();
    }
    // The client reconnects with a back-off of its own.
    expect(await eventually(async () => (await check()).httpStatus === 200, 15_000, 100)).toBe(true);
  });

  it('stays down while the circuit breaker is open, even when Redis already answers again, then comes back', async () => {
    const { cache, check } = await boot(
      { l2: { url: own.server.url }, resilience: { timeoutMs: 100, breaker: { failureThreshold: 1, cooldownMs: 2_000 } } },
      { timeoutMs: 500 },
    );
    own.server.pause();
    try {
      // A read that L2 does not answer in time opens the breaker (one failure is enough here).
      await cache.get('anything').catch(() => undefined);
      expect(cache.stats().resilience?.breaker?.state).toBe('open');
    } finally {
      own.server.resume();
    }

    const down = await check();
    expect(down.httpStatus).toBe(503);
    expect(down.cache).toMatchObject({ status: 'down', l2: { status: 'up' }, breaker: 'open' });
    expect(down.cache.message).toMatch(/circuit breaker is open/);
    // After the cool-down the breaker lets a call probe L2, and the check passes again.
    expect(await eventually(async () => (await check()).httpStatus === 200, 5_000, 100)).toBe(true);
  });

  it('is down when more writes wait for replay than maxReplayBacklog allows', async () => {
    // Redis answers reads but fails every write: each write is kept for replay.
    const chaos = new ChaosStore(new RedisStore({ url: REDIS_URL }), { failureRate: 1, operations: ['set'] });
    stores.push(chaos);
    const { cache, check } = await boot({ l2: chaos, resilience: { breaker: false } }, { maxReplayBacklog: 1 });
    await cache.set('one', 1);
    expect((await check()).httpStatus).toBe(200);

    await cache.set('two', 2);
    const down = await check();
    expect(down.httpStatus).toBe(503);
    expect(down.cache).toMatchObject({ status: 'down', l2: { status: 'up' }, replayBacklog: 2 });
    expect(down.cache.message).toMatch(/2 L2 write\(s\) wait to be replayed, more than maxReplayBacklog \(1\)/);

    chaos.fail(0);
    // Once L2 takes writes again they are replayed and the backlog empties.
    expect(await eventually(async () => (await check()).httpStatus === 200, 10_000, 100)).toBe(true);
  });

  it('is down when more background tasks run or wait than maxOffloadBacklog allows', async () => {
    const chaos = new ChaosStore(new RedisStore({ url: REDIS_URL }), { hang: true, operations: ['set'] });
    stores.push(chaos);
    const { cache, check } = await boot({ l2: chaos, resilience: { timeoutMs: 10_000, breaker: false } }, { maxOffloadBacklog: 0 });
    expect((await check()).httpStatus).toBe(200);

    // A background write whose L2 part hangs keeps its offload slot.
    await cache.put('slow', 'value', { background: true });
    const down = await check();
    expect(down.httpStatus).toBe(503);
    expect(down.cache).toMatchObject({ status: 'down', offloadBacklog: 1 });
    expect(down.cache.message).toMatch(/1 background cache task\(s\) are running or queued, more than maxOffloadBacklog \(0\)/);

    chaos.recover();
    expect(await eventually(async () => (await check()).httpStatus === 200, 5_000, 50)).toBe(true);
  });

  it('with l2Required: false, reports a stopped Redis as degraded (up on Terminus 11, which has no degraded) and keeps the check passing', async () => {
    const { app, check } = await boot({ l2: { url: own.server.url } }, { timeoutMs: 300, l2Required: false });
    const terminusHasDegraded = typeof (app.get(HealthIndicatorService).check('probe') as { degraded?: unknown }).degraded === 'function';
    await own.server.kill();
    try {
      const degraded = await check();
      expect(degraded.httpStatus).toBe(200);
      expect(degraded.status).toBe(terminusHasDegraded ? 'degraded' : 'ok');
      expect(degraded.cache).toMatchObject({ status: terminusHasDegraded ? 'degraded' : 'up', l2: { status: 'down' } });
      expect(degraded.cache.message).toMatch(/L2 did not answer/);
    } finally {
      await own.server.restart();
    }
  });

  it('checks the cache it is given, and says which cache it could not find', async () => {
    const { app } = await boot({ l2: false });
    const indicator = app.get(LayeredCacheHealthIndicator);
    const offload = new OffloadService();
    const other = new LayeredCache({ l1: new MemoryStore(), offload });
    await other.set('x', 1);

    expect(await indicator.isHealthy('other', { cache: other })).toEqual({
      other: { status: 'up', l1: { entries: 1 }, l2: { status: 'none' }, replayBacklog: 0, offloadBacklog: 0 },
    });
    await expect(indicator.isHealthy('cache', { cache: 'sessions' })).rejects.toThrow(/found no cache named "sessions"/);
    await expect(indicator.isHealthy('cache', { maxReplayBacklog: -1 })).rejects.toThrow(/maxReplayBacklog -1/);
    await offload.shutdown(100);
  });

  it('checks a named cache by its name', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [LayeredCacheModule.forRoot({ isGlobal: true }), LayeredCacheModule.forRoot({ isGlobal: true, name: 'sessions' }), TerminusModule.forRoot({ logger: false })],
      providers: [LayeredCacheHealthIndicator],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    apps.push(app);
    await app.get<LayeredCache>(getLayeredCacheToken('sessions')).set('s1', 'session');
    const indicator = app.get(LayeredCacheHealthIndicator);
    expect(await indicator.isHealthy('sessions', { cache: 'sessions' })).toEqual({
      sessions: { status: 'up', l1: { entries: 1 }, l2: { status: 'none' }, replayBacklog: 0, offloadBacklog: 0 },
    });
    expect((await indicator.isHealthy('cache')).cache.l1).toEqual({ entries: 0 });
  });
});
