import { Injectable, Module } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CacheErrorEvent, type CacheEvent, type CacheStore, Cacheable, CacheSerializationError, CacheWrite, L1_STORE, LayeredCache } from '../../lib';
import { MAX_KEY_LENGTH } from '../../lib/core/cache-key';
import { ProductsModule, ProductService, sampleProduct } from '../fixtures/products';
import { createTestApp } from '../support/app';
import { envelopeValue, type RawClient, rawClient } from '../support/fault-app';
import { eventually, holdsEntry, uniqueNamespace } from '../support/redis';
import { RedisServer } from '../support/redis-server';

/*
 * What another client wrote into the shared layer, or what a method returned, may be garbage for the
 * cache. Every case must be a miss (or a result not cached) plus an error event, never a failed call.
 */

/** Methods whose results the JSON serializer refuses, and methods with tricky arguments. */
@Injectable()
class OddResults {
  calls = 0;

  @Cacheable({ key: 'bigint' })
  async bigint(): Promise<{ total: bigint }> {
    this.calls++;
    return { total: 10n ** 20n };
  }

  @Cacheable({ key: 'circular' })
  async circular(): Promise<Record<string, unknown>> {
    this.calls++;
    const node: Record<string, unknown> = { name: 'loop' };
    node.self = node;
    return node;
  }

  @CacheWrite({ key: 'function' })
  async withFunction(): Promise<{ run: () => number }> {
    this.calls++;
    return { run: () => 1 };
  }

  @Cacheable({ key: 'nothing' })
  async nothing(): Promise<undefined> {
    this.calls++;
    return undefined;
  }

  @Cacheable()
  async echo(...args: unknown[]): Promise<string[]> {
    this.calls++;
    return args.map((arg) => typeof arg);
  }
}

@Module({ providers: [OddResults], exports: [OddResults] })
class OddResultsModule {}

describe('bad input in and out of the shared layer', () => {
  let redis: RedisServer;
  let raw: RawClient;
  let app: TestingModule;
  let namespace: string;
  let events: CacheEvent[];

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = await rawClient(redis.url);
  });
  afterAll(async () => {
    raw?.destroy();
    await redis?.stop();
  });

  async function boot(): Promise<void> {
    namespace = uniqueNamespace('bad-input');
    app = await createTestApp({ cache: { namespace, l2: { url: redis.url } }, imports: [ProductsModule, OddResultsModule] });
    events = [];
    app.get(LayeredCache).events$.subscribe((event) => events.push(event));
  }
  afterEach(async () => {
    await app?.close();
  });

  const errors = (): CacheErrorEvent[] => events.filter((e): e is CacheErrorEvent => e.type === 'error');

  it.each([
    ['foreign text', 'hello from another app'],
    ['a truncated envelope', '1|1700000000000'],
    ['an unknown format version', '9|1||0|{}'],
    ['a corrupt payload', '1|1||0|{"id":'],
    ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x00, 0x7c])],
  ])('%s in L2 is a miss plus a serialize error event; the method runs and its result replaces it', async (_label, garbage) => {
    await boot();
    const service = app.get(ProductService);
    service.repository.rows.set('c1', sampleProduct('c1', 7));
    const key = `${namespace}:product:c1`;
    await raw.set(key, garbage);

    expect(await service.findOne('c1')).toEqual(sampleProduct('c1', 7));

    expect(service.repository.calls.find).toBe(1);
    expect(errors()).toEqual([expect.objectContaining({ layer: 'l2', operation: 'serialize', key, error: expect.any(CacheSerializationError) })]);
    expect((envelopeValue(await raw.get(key)) as { price: number }).price).toBe(7);
    expect(app.get(LayeredCache).stats().resilience?.breaker?.state).toBe('closed');
  });

  it('does not mistake corrupt values for a failing Redis: the breaker stays closed', async () => {
    await boot();
    const service = app.get(ProductService);
    for (let i = 0; i < 10; i++) {
      service.repository.rows.set(`g${i}`, sampleProduct(`g${i}`, i));
      await raw.set(`${namespace}:product:g${i}`, 'garbage');
      expect(await service.findOne(`g${i}`)).toEqual(sampleProduct(`g${i}`, i));
    }
    expect(app.get(LayeredCache).stats().resilience?.breaker).toMatchObject({ state: 'closed', opened: 0 });
  });

  it('payloads with __proto__ and constructor keys cannot pollute prototypes, in L2 reads or their L1 copies', async () => {
    await boot();
    const service = app.get(ProductService);
    const key = `${namespace}:product:p1`;
    const payload = '{"id":"p1","__proto__":{"polluted":"yes","price":999},"constructor":{"prototype":{"polluted":"yes"}}}';
    await raw.set(key, `1|${Date.now()}||0|${payload}`);

    const read = (await service.findOne('p1')) as unknown as Record<string, unknown>;
    const fromL1 = (await app.get<CacheStore>(L1_STORE).get<Record<string, unknown>>(key))?.value;

    expect(service.repository.calls.find).toBe(0); // a hit: the payload is valid JSON
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
    expect(read.price).toBeUndefined(); // "__proto__" is an own key, not the prototype
    expect(Object.hasOwn(read, '__proto__')).toBe(true);
    if (fromL1 !== undefined) expect(Object.getPrototypeOf(fromL1)).toBe(Object.prototype);
  });

  it.each([
    ['bigint', /value\.total is a BigInt/],
    ['circular', /value\.self is a circular reference/],
    ['withFunction', /value\.run is a function/],
  ] as const)('a %s result is returned, a clear CacheSerializationError is reported, nothing lands in Redis', async (method, message) => {
    await boot();
    const odd = app.get(OddResults);
    const result = await (odd[method] as () => Promise<unknown>).call(odd);
    expect(result).toBeDefined();
    const serializeErrors = errors().filter((e) => e.operation === 'serialize');
    expect(serializeErrors).toHaveLength(1);
    expect(serializeErrors[0].error).toBeInstanceOf(CacheSerializationError);
    expect(serializeErrors[0].error.message).toMatch(message);
    expect(serializeErrors[0].error.message).toMatch(/To fix it/);
    for (const key of await raw.keys(`${namespace}:*`)) expect(holdsEntry(await raw.get(key)), key).toBe(false);
    expect(app.get(LayeredCache).stats().resilience?.replay?.pending).toBe(0); // a value that cannot be encoded is never replayed
  });

  it('a @CacheWrite result Redis cannot store removes the older cached value from every layer, so no instance keeps it', async () => {
    await boot();
    const cache = app.get(LayeredCache);
    await cache.set('function', { run: 'an older, storable value' });
    const odd = app.get(OddResults);
    await odd.withFunction();
    expect(await cache.get('function')).toBeUndefined();
    expect(holdsEntry(await raw.get(`${namespace}:function`))).toBe(false);
  });

  it('undefined is not cached', async () => {
    await boot();
    const odd = app.get(OddResults);
    await odd.nothing();
    await odd.nothing();
    expect(odd.calls).toBe(2);
    expect(await raw.exists(`${namespace}:nothing`)).toBe(0);
  });

  it('hashes over-long keys to a bounded length, keeping different arguments apart', async () => {
    await boot();
    const odd = app.get(OddResults);
    const long = 'x'.repeat(5_000);
    await odd.echo(`${long}a`);
    await odd.echo(`${long}b`);
    await odd.echo(`${long}a`);
    expect(odd.calls).toBe(2);
    const keys = await raw.keys(`${namespace}:*`);
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(key.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
  });

  it('keeps arguments that differ under different keys', async () => {
    await boot();
    const odd = app.get(OddResults);
    const argumentLists: unknown[][] = [
      ['a:b'],
      ['a', 'b'],
      ['1'],
      [1],
      [null],
      [undefined],
      [[]],
      [{}],
      [{ a: 1 }],
      [{ a: '1' }],
      [new Date(0)],
      ['a…#b'],
    ];
    for (const args of argumentLists) await odd.echo(...args);
    for (const args of argumentLists) await odd.echo(...args);
    expect(odd.calls).toBe(argumentLists.length);
    // A write the time limit cut short is kept and replayed, so the last key may land a little later.
    expect(await eventually(async () => (await raw.keys(`${namespace}:*`)).length === argumentLists.length)).toBe(true);
  });
});
