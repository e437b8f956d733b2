import { keyvApiTests, keyvNamespaceTest, keyvValueTests } from '@keyv/test-suite';
import { createCache } from 'cache-manager';
import { Keyv, type KeyvOptions, type KeyvStoreAdapter } from 'keyv';
import * as vitest from 'vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyvLayeredCache, LayeredCache, LayeredCacheError, MemoryStore, OffloadService, RedisStore } from '../../lib';
import { ChaosStore } from '../../lib/testing';
import { eventually, holdsEntry, rawRedisForFile, REDIS_URL, uniqueNamespace } from '../support/redis';
import { RELAXED_L2_TIME_LIMIT } from '../support/app';

// The adapter must fit the contract Keyv 5 types its stores with, checked when the tests compile.
const fitsKeyv: (adapter: KeyvLayeredCache) => KeyvStoreAdapter = (adapter) => adapter;
const fitsKeyvOptions: (options: ReturnType<typeof KeyvLayeredCache.keyvOptions>) => KeyvOptions = (options) => options;
void fitsKeyv;
void fitsKeyvOptions;

const redis = rawRedisForFile();
const namespaces = redis.namespaces;
const caches: LayeredCache[] = [];

// Runs before the hook of rawRedisForFile that deletes the namespaces' keys (after hooks run in reverse).
afterAll(async () => {
  for (const cache of caches) await cache.store.close();
});

/** A LayeredCache with a MemoryStore L1 and a RedisStore L2 on the shared Redis, in a namespace of its own. */
function newLayeredCache(label: string, namespace = uniqueNamespace(label), options: { warnings?: string[] } = {}) {
  namespaces.push(namespace);
  const l1 = new MemoryStore();
  const cache = new LayeredCache({
    l1,
    l2: new RedisStore({ url: REDIS_URL }),
    offload: new OffloadService(),
    namespace,
    resilience: RELAXED_L2_TIME_LIMIT,
    logger: { warn: (message: string) => options.warnings?.push(message), error: () => undefined },
  });
  caches.push(cache);
  return { cache, l1, namespace };
}

describe('KeyvLayeredCache passes the official @keyv/test-suite (MemoryStore L1, RedisStore L2)', () => {
  // keyvTestSuite (the default export) is these three; iterator tests do not apply (see KeyvLayeredCache).
  describe('with Keyv serializing values itself (its default)', () => {
    const { cache } = newLayeredCache('keyv-suite');
    const store = () => new KeyvLayeredCache(cache);
    keyvApiTests(vitest, Keyv, store);
    keyvValueTests(vitest, Keyv, store);
    keyvNamespaceTest(vitest, Keyv, store);
  });

  describe('built with keyvOptions (serialization left to the cache)', () => {
    const { cache } = newLayeredCache('keyv-suite-raw');
    /** The Keyv the suite builds, with the options keyvOptions gives over what the suite passes. */
    class KeyvOnLayers extends Keyv {
      constructor(options?: KeyvOptions) {
        super({ ...KeyvLayeredCache.keyvOptions(cache), ...options });
      }
    }
    const store = () => new KeyvLayeredCache(cache);
    keyvApiTests(vitest, KeyvOnLayers, store);
    keyvValueTests(vitest, KeyvOnLayers, store);
    keyvNamespaceTest(vitest, KeyvOnLayers, store);
  });
});

/** The key Redis holds for `key` of Keyv namespace `keyvNamespace` on `cache`. */
function redisKey(cache: LayeredCache, keyvNamespace: string, key: string): string {
  return cache.fullKey(`keyv:${keyvNamespace}:${key}`);
}

class Product {
  constructor(
    readonly id: number,
    readonly name: string,
  ) {}
}

class Wallet {
  #balance = 10;
  balance(): number {
    return this.#balance;
  }
}

describe('Keyv built with keyvOptions, on the layers', () => {
  it('keeps a write for its TTL, in milliseconds, in Redis', async () => {
    const { cache } = newLayeredCache('keyv-ttl');
    const keyv = new Keyv(KeyvLayeredCache.keyvOptions(cache, { namespace: 'app' }));
    await keyv.set('k', 'v', 5_000);
    const pttl = await redis.client().pTTL(redisKey(cache, 'app', 'k'));
    expect(pttl).toBeGreaterThan(4_000);
    expect(pttl).toBeLessThanOrEqual(5_000);
    expect(await keyv.get('k')).toBe('v');
  });

  it("gives a write without a TTL the cache's default TTL, or its own ttl option", async () => {
    const { cache } = newLayeredCache('keyv-default-ttl');
    await new Keyv(KeyvLayeredCache.keyvOptions(cache, { namespace: 'a' })).set('k', 'v');
    await new Keyv(KeyvLayeredCache.keyvOptions(cache, { namespace: 'b', ttl: 2_000 })).set('k', 'v');
    const defaultPttl = await redis.client().pTTL(redisKey(cache, 'a', 'k'));
    expect(defaultPttl).toBeGreaterThan(cache.defaultTtl - 1_000);
    expect(defaultPttl).toBeLessThanOrEqual(cache.defaultTtl);
    const ownPttl = await redis.client().pTTL(redisKey(cache, 'b', 'k'));
    expect(ownPttl).toBeGreaterThan(1_000);
    expect(ownPttl).toBeLessThanOrEqual(2_000);
  });

  it('keeps a write without any TTL for ever, as Keyv means, when the Keyv has no ttl', async () => {
    const { cache } = newLayeredCache('keyv-no-ttl');
    const keyv = new Keyv({ store: new KeyvLayeredCache(cache), namespace: 'plain' });
    await keyv.set('k', 'v');
    expect(await redis.client().pTTL(redisKey(cache, 'plain', 'plain:k'))).toBe(-1);
  });

  it('deletes the key for a negative TTL, whose value has expired already', async () => {
    const { cache } = newLayeredCache('keyv-negative-ttl');
    const adapter = new KeyvLayeredCache(cache);
    await adapter.set('k', 'old', 5_000);
    expect(await adapter.set('k', 'new', -1)).toBe(true);
    expect(await adapter.get('k')).toBeUndefined();
    expect(holdsEntry(await redis.client().get(cache.fullKey('keyv::k')))).toBe(false);
  });

  it('round-trips every kind of value the cache promises, from L1, from L2 and on another instance', async () => {
    const { cache, l1, namespace } = newLayeredCache('keyv-values');
    const other = newLayeredCache('keyv-values', namespace).cache;
    const keyv = new Keyv(KeyvLayeredCache.keyvOptions(cache));
    const elsewhere = new Keyv(KeyvLayeredCache.keyvOptions(other));
    const values: Record<string, unknown> = {
      text: 'a "quoted" \'value\' with ~ and : in it',
      empty: '',
      zero: 0,
      negative: -1.5,
      no: false,
      nothing: null,
      list: [1, 'two', null, { three: 3 }],
      date: new Date('2026-05-01T12:00:00.000Z'),
      buffer: Buffer.from([0, 1, 2, 255]),
      bytes: new Uint8Array([9, 8, 7]),
      nested: { at: new Date(0), avatar: Buffer.from('hi'), tags: ['a'], deep: { when: [new Date(1)] } },
      lookalike: { $date: 'not a date', value: 1, expires: 2 },
    };
    for (const [key, value] of Object.entries(values)) expect(await keyv.set(key, value, 10_000)).toBe(true);
    const readAll = async (from: Keyv) => Object.fromEntries(await Promise.all(Object.keys(values).map(async (key) => [key, await from.get(key)])));
    const fromL1 = await readAll(keyv);
    await l1.clear();
    const fromL2 = await readAll(keyv);
    const fromOtherInstance = await readAll(elsewhere);
    for (const read of [fromL1, fromL2, fromOtherInstance]) {
      expect(read).toEqual(values);
      expect(read.date).toBeInstanceOf(Date);
      expect(Buffer.isBuffer(read.buffer)).toBe(true);
      expect(read.bytes).toBeInstanceOf(Uint8Array);
      expect(Buffer.isBuffer(read.bytes)).toBe(false);
      expect((read.nested as { deep: { when: unknown[] } }).deep.when[0]).toBeInstanceOf(Date);
    }
  });

  it('brings class instances back as the same plain object from L1 and L2, and says once how to keep instances', async () => {
    const warnings: string[] = [];
    const { cache, l1 } = newLayeredCache('keyv-class', undefined, { warnings });
    const keyv = new Keyv(KeyvLayeredCache.keyvOptions(cache));
    await keyv.set('p1', new Product(1, 'Lamp'));
    await keyv.set('p2', new Product(2, 'Desk'));
    const fromL1 = await keyv.get('p1');
    await l1.clear();
    const fromL2 = await keyv.get('p1');
    for (const read of [fromL1, fromL2]) {
      expect(read).toEqual({ id: 1, name: 'Lamp' });
      expect(read).not.toBeInstanceOf(Product);
    }
    expect(warnings.filter((message) => message.includes('Product'))).toHaveLength(1);
  });

  it.each([
    ['a BigInt', () => 10n ** 20n],
    ['state in #private fields', () => new Wallet()],
  ])('caches in no layer a value the serializer refuses: %s', async (_kind, make) => {
    const { cache, l1 } = newLayeredCache('keyv-refused');
    const keyv = new Keyv(KeyvLayeredCache.keyvOptions(cache, { namespace: 'app' }));
    const errors: unknown[] = [];
    keyv.on('error', (error: unknown) => errors.push(error));
    await keyv.set('k', 'before');
    expect(await keyv.set('k', make())).toBe(false);
    expect(errors).toHaveLength(1);
    expect(await keyv.get('k')).toBe('before');
    await l1.clear();
    expect(await keyv.get('k')).toBe('before');
  });

  it("with Keyv's default serializer, values come back as Keyv's own JSON makes them: a Date as its text", async () => {
    const { cache, l1 } = newLayeredCache('keyv-keyv-json');
    const keyv = new Keyv({ store: new KeyvLayeredCache(cache) });
    await keyv.set('when', { at: new Date('2026-05-01T12:00:00.000Z'), avatar: Buffer.from('hi') });
    await l1.clear();
    const read = await keyv.get('when');
    expect(read.at).toBe('2026-05-01T12:00:00.000Z');
    expect(Buffer.from('hi').equals(read.avatar)).toBe(true);
  });

  it('answers has, get and delete for many keys at once', async () => {
    const { cache } = newLayeredCache('keyv-many');
    const keyv = new Keyv(KeyvLayeredCache.keyvOptions(cache));
    expect(await keyv.setMany([{ key: 'a', value: 1 }, { key: 'b', value: 2, ttl: 5_000 }])).toEqual([true, true]);
    expect(await keyv.getMany(['a', 'missing', 'b'])).toEqual([1, undefined, 2]);
    expect(await keyv.hasMany(['a', 'missing', 'b'])).toEqual([true, false, true]);
    expect(await keyv.deleteMany(['a', 'missing'])).toBe(true);
    expect(await keyv.hasMany(['a', 'b'])).toEqual([false, true]);
    expect(await keyv.deleteMany(['a', 'missing'])).toBe(false);
  });

  it("counts a read that fails as absent in has and getMany, and tells Keyv's error listeners", async () => {
    const namespace = uniqueNamespace('keyv-failing');
    const l2 = new ChaosStore(new MemoryStore(), { failureRate: 1, operations: ['get'] });
    const cache = new LayeredCache({ l1: new MemoryStore(), l2, offload: new OffloadService(), namespace, resilience: false });
    const keyv = new Keyv(KeyvLayeredCache.keyvOptions(cache));
    const errors: unknown[] = [];
    keyv.on('error', (error: unknown) => errors.push(error));
    expect(await keyv.has('k')).toBe(false);
    expect(await keyv.getMany(['k', 'j'])).toEqual([undefined, undefined]);
    expect(errors).toHaveLength(3);
    await expect(new Keyv({ ...KeyvLayeredCache.keyvOptions(cache), throwOnErrors: true }).get('k')).rejects.toThrow();
  });

  it('leaves the cache open for its other users on disconnect()', async () => {
    const { cache } = newLayeredCache('keyv-disconnect');
    const keyv = new Keyv(KeyvLayeredCache.keyvOptions(cache));
    await keyv.set('k', 'v');
    await keyv.disconnect();
    await cache.set('own', 1);
    expect(await cache.get('own')).toBe(1);
    expect(await new Keyv(KeyvLayeredCache.keyvOptions(cache)).get('k')).toBe('v');
  });

  it('refuses to be built on anything but a LayeredCache, and says how to get one', () => {
    expect(() => new KeyvLayeredCache(createCache() as never)).toThrow(LayeredCacheError);
    expect(() => new KeyvLayeredCache(createCache() as never)).toThrow(/inject: \[LayeredCache\]/);
  });

  it.each([-1, Number.NaN, 1.5e13])('refuses keyvOptions with ttl %s before any Keyv is built', (ttl) => {
    const { cache } = newLayeredCache('keyv-bad-ttl');
    expect(() => KeyvLayeredCache.keyvOptions(cache, { ttl })).toThrow(LayeredCacheError);
  });
});

describe("Keyv namespaces in the cache's key space", () => {
  it("stores the keys of a Keyv namespace under keyv:<namespace>: in the cache's namespace", async () => {
    const { cache, namespace } = newLayeredCache('keyv-keys');
    await new Keyv(KeyvLayeredCache.keyvOptions(cache, { namespace: 'http' })).set('/products/1', 'p1');
    expect(await redis.client().exists(`${namespace}:keyv:http:/products/1`)).toBe(1);
  });

  it("clear() deletes one Keyv namespace and nothing else: not a namespace that starts alike, not the cache's own keys", async () => {
    const { cache, namespace } = newLayeredCache('keyv-clear');
    const neighbour = newLayeredCache('keyv-clear-neighbour').cache;
    const keyvOf = (on: LayeredCache, keyvNamespace: string | undefined) => new Keyv({ ...KeyvLayeredCache.keyvOptions(on), namespace: keyvNamespace });
    const a = keyvOf(cache, 'a');
    const others = [keyvOf(cache, 'a:b'), keyvOf(cache, 'ab'), keyvOf(cache, undefined), keyvOf(neighbour, 'a')];
    await a.set('k', 'a');
    await a.set(`long:${'x'.repeat(400)}`, 'a');
    for (const other of others) await other.set('k', 'other');
    await cache.set('keyv-like', 'own');
    await cache.set('a:k', 'own');
    await a.clear();
    expect(await a.get('k')).toBeUndefined();
    for (const other of others) expect(await other.get('k')).toBe('other');
    expect(await cache.get('keyv-like')).toBe('own');
    expect(await cache.get('a:k')).toBe('own');
    const left = await redis.client().keys(`${namespace}:keyv:a:*`);
    expect(left).toEqual([]);
  });

  it("clear() on one instance drops the other instances' L1 copies of that Keyv namespace", async () => {
    const { cache, namespace } = newLayeredCache('keyv-clear-instances');
    const other = newLayeredCache('keyv-clear-instances', namespace).cache;
    await Promise.all([cache.invalidationStarted, other.invalidationStarted]);
    const here = new Keyv(KeyvLayeredCache.keyvOptions(cache, { namespace: 'http' }));
    const there = new Keyv(KeyvLayeredCache.keyvOptions(other, { namespace: 'http' }));
    await here.set('/products/1', 'p1');
    expect(await there.get('/products/1')).toBe('p1');
    await here.clear();
    expect(await eventually(async () => (await there.get('/products/1')) === undefined)).toBe(true);
  });

  it('keeps a long namespace and its long keys apart and clears them', async () => {
    const { cache, namespace } = newLayeredCache('keyv-long');
    const longName = 'n'.repeat(100);
    const keyv = new Keyv({ ...KeyvLayeredCache.keyvOptions(cache), namespace: longName });
    const similar = new Keyv({ ...KeyvLayeredCache.keyvOptions(cache), namespace: `${longName}m` });
    const longKey = `report:${'x'.repeat(400)}`;
    await keyv.set(longKey, 'long');
    await similar.set(longKey, 'similar');
    expect(await keyv.get(longKey)).toBe('long');
    await keyv.clear();
    expect(await keyv.get(longKey)).toBeUndefined();
    expect(await similar.get(longKey)).toBe('similar');
    expect(await redis.client().keys(`${namespace}:keyv:*`)).toHaveLength(1);
  });
});

describe('cache-manager on the layers', () => {
  it('reports the remaining TTL of an entry and loads a wrapped value once', async () => {
    const { cache } = newLayeredCache('keyv-cache-manager');
    const cacheManager = createCache({ stores: [new Keyv(KeyvLayeredCache.keyvOptions(cache))] });
    await cacheManager.set('k', { at: new Date(0) }, 5_000);
    const expires = await cacheManager.ttl('k');
    expect(expires).toBeGreaterThan(Date.now() + 4_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 5_000);
    expect(await cacheManager.get('k')).toEqual({ at: new Date(0) });
    let loads = 0;
    const load = async () => ({ n: ++loads });
    expect(await cacheManager.wrap('w', load, 1_000)).toEqual({ n: 1 });
    expect(await cacheManager.wrap('w', load, 1_000)).toEqual({ n: 1 });
    const pttl = await redis.client().pTTL(redisKey(cache, 'keyv', 'w'));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1_000);
    expect(await cacheManager.del('k')).toBe(true);
    expect(holdsEntry(await redis.client().get(redisKey(cache, 'keyv', 'k')))).toBe(false);
  });
});
