import { randomUUID } from 'node:crypto';
import net from 'node:net';
import IoRedis, { Cluster } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { createClient as createClientV5 } from 'redis5';
import IoRedisV6 from 'ioredis6';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CacheEntry, createCacheEntry } from '../../lib/core/cache-entry';
import { encodeEnvelope } from '../../lib/core/envelope';
import { CacheSerializationError, CacheTimeoutError, LayeredCacheError } from '../../lib/core/errors';
import { type IoRedisClientLike, type NodeRedisClientLike, RedisStore, type RedisDriver, type RedisStoreOptions } from '../../lib/stores/redis';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUN = randomUUID().slice(0, 8);
const ROOT = `test:redis-store:${RUN}:`;

type RawRedis = ReturnType<typeof createClient>;
let raw: RawRedis;

beforeAll(async () => {
  raw = createClient({ url: REDIS_URL });
  raw.on('error', () => undefined);
  await raw.connect();
});

afterAll(async () => {
  await deleteByPrefix(ROOT);
  raw.destroy();
});

async function deleteByPrefix(prefix: string): Promise<void> {
  for await (const keys of raw.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    if (keys.length > 0) await raw.unlink(keys);
  }
}

async function countByPrefix(prefix: string): Promise<number> {
  let count = 0;
  for await (const keys of raw.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) count += keys.length;
  return count;
}

/** A fresh key prefix per test; every key a test writes starts with it. */
function newPrefix(): string {
  return `${ROOT}${randomUUID().slice(0, 8)}:`;
}

/** Names of the connections Redis currently has open (CLIENT LIST). */
async function connectionNames(): Promise<string[]> {
  const list = await raw.clientList();
  return list.map((client) => client.name);
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 3_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface StoreUnderTest {
  readonly store: RedisStore;
  /** CLIENT SETNAME of the store's connection, to see in CLIENT LIST whether it is open. */
  readonly connectionName: string;
  /** Whether the client given to the store (if any) can still run commands. */
  readonly existingClientWorks?: () => Promise<boolean>;
  readonly dispose: () => Promise<void>;
}

interface Variant {
  readonly label: string;
  readonly driver: RedisDriver;
  readonly owned: boolean;
  readonly create: () => Promise<StoreUnderTest>;
}

/** A CLIENT SETNAME unique to one store of this run. */
const newConnectionName = (): string => `lc-test-${RUN}-${randomUUID().slice(0, 6)}`;

/** The store creates and owns its client, from the url and these options. */
function storeOwningItsClient(driver: RedisDriver, options: (connectionName: string) => RedisStoreOptions): Variant {
  return {
    label: `${driver} client created from url`,
    driver,
    owned: true,
    create: async () => {
      const connectionName = newConnectionName();
      const store = new RedisStore(options(connectionName));
      return { store, connectionName, dispose: () => store.close() };
    },
  };
}

/** The store is given a client the test created, connects and closes; `close()` must leave it open. */
function storeGivenAClient<C extends (NodeRedisClientLike | IoRedisClientLike) & { ping(): Promise<unknown> }>(
  driver: RedisDriver,
  connect: (connectionName: string) => Promise<C>,
  disconnect: (client: C) => void,
  label = `existing ${driver} client`,
): Variant {
  return {
    label,
    driver,
    owned: false,
    create: async () => {
      const connectionName = newConnectionName();
      const client = await connect(connectionName);
      const store = new RedisStore({ client });
      return {
        store,
        connectionName,
        existingClientWorks: async () => (await client.ping()) === 'PONG',
        dispose: async () => {
          await store.close();
          disconnect(client);
        },
      };
    },
  };
}

const variants: Variant[] = [
  storeOwningItsClient('node-redis', (connectionName) => ({ url: REDIS_URL, clientOptions: { name: connectionName } })),
  storeOwningItsClient('ioredis', (connectionName) => ({ url: REDIS_URL, driver: 'ioredis', clientOptions: { connectionName } })),
  storeGivenAClient(
    'node-redis',
    async (connectionName) => {
      const client = createClient({ url: REDIS_URL, name: connectionName });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    (client) => {
      if (client.isOpen) client.destroy();
    },
  ),
  storeGivenAClient(
    'ioredis',
    async (connectionName) => {
      const client = new IoRedis(REDIS_URL, { connectionName });
      client.on('error', () => undefined);
      return client;
    },
    (client) => client.disconnect(),
  ),
  // The majors before and after the ones installed as `redis` and `ioredis`: node-redis 5 (RESP2), ioredis 6 (RESP3).
  storeGivenAClient(
    'node-redis',
    async (connectionName) => {
      const client = createClientV5({ url: REDIS_URL, name: connectionName });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    (client) => {
      if (client.isOpen) client.destroy();
    },
    'existing node-redis v5 client',
  ),
  storeGivenAClient(
    'ioredis',
    async (connectionName) => {
      const client = new IoRedisV6(REDIS_URL, { connectionName });
      client.on('error', () => undefined);
      return client;
    },
    (client) => client.disconnect(),
    'existing ioredis v6 client',
  ),
];

describe.each(variants)('RedisStore with $label', ({ driver, owned, create }) => {
  let subject: StoreUnderTest;
  let store: RedisStore;
  let prefix: string;

  beforeAll(async () => {
    subject = await create();
    store = subject.store;
  });

  afterAll(async () => {
    await subject.dispose();
  });

  beforeEach(() => {
    prefix = newPrefix();
  });

  it('uses the expected driver', () => {
    expect(store.driver).toBe(driver);
  });

  it('round trips an entry with Date values', async () => {
    const value = { id: 7, at: new Date('2024-01-02T03:04:05.678Z'), history: [{ when: new Date(0), note: 'a|b' }] };
    const entry = createCacheEntry(value, 60_000);
    await store.set(`${prefix}k`, entry, 60_000);
    const read = await store.get<typeof value>(`${prefix}k`);
    // The length of the text read comes with the entry, for an L1 bounded by bytes.
    expect(read).toEqual({ ...entry, encodedLength: (await raw.get(`${prefix}k`))?.length });
    expect(read?.value.at).toBeInstanceOf(Date);
    expect(read?.value.history[0]?.when).toBeInstanceOf(Date);
  });

  it('stores the versioned envelope text', async () => {
    const entry: CacheEntry = { value: { a: 1 }, createdAt: Date.now(), expiresAt: null };
    await store.set(`${prefix}k`, entry, undefined);
    expect(await raw.get(`${prefix}k`)).toBe(encodeEnvelope(entry));
  });

  it('resolves undefined for a missing key', async () => {
    expect(await store.get(`${prefix}missing`)).toBeUndefined();
  });

  it('answers concurrent reads, batched into MGETs, each with its own entry or a miss', async () => {
    const entries = Array.from({ length: 600 }, (_, index) => createCacheEntry({ index }, 60_000));
    await Promise.all(entries.map((entry, index) => (index % 3 === 0 ? undefined : store.set(`${prefix}${index}`, entry, 60_000))));
    const reads = await Promise.all(entries.map((_, index) => store.get(`${prefix}${index}`)));
    expect(reads).toEqual(entries.map((entry, index) => (index % 3 === 0 ? undefined : { ...entry, encodedLength: expect.any(Number) })));
  });

  it('sets PX from ttlMs', async () => {
    await store.set(`${prefix}k`, createCacheEntry('v', 60_000), 60_000);
    const pttl = await raw.pTTL(`${prefix}k`);
    expect(pttl).toBeGreaterThan(55_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('rounds a fractional ttlMs up to whole milliseconds', async () => {
    await store.set(`${prefix}k`, createCacheEntry('v', 5_000), 4_999.2);
    const pttl = await raw.pTTL(`${prefix}k`);
    expect(pttl).toBeGreaterThan(4_000);
    expect(pttl).toBeLessThanOrEqual(5_000);
  });

  it('stores without expiry when ttlMs is undefined', async () => {
    await store.set(`${prefix}k`, createCacheEntry('v', undefined), undefined);
    expect(await raw.pTTL(`${prefix}k`)).toBe(-1);
  });

  it('replaces an earlier expiry when set again without ttl', async () => {
    await store.set(`${prefix}k`, createCacheEntry('v', 60_000), 60_000);
    await store.set(`${prefix}k`, createCacheEntry('w', undefined), undefined);
    expect(await raw.pTTL(`${prefix}k`)).toBe(-1);
  });

  it.each([0, -5])('deletes instead of storing when ttlMs is %s', async (ttlMs) => {
    await raw.set(`${prefix}k`, 'old');
    await store.set(`${prefix}k`, createCacheEntry('v', undefined), ttlMs);
    expect(await raw.exists(`${prefix}k`)).toBe(0);
  });

  it('rejects a NaN ttlMs without touching Redis', async () => {
    await expect(store.set(`${prefix}k`, createCacheEntry('v', undefined), Number.NaN)).rejects.toThrow(/ttlMs NaN/);
    expect(await raw.exists(`${prefix}k`)).toBe(0);
  });

  it('treats an entry whose expiresAt has passed as a miss', async () => {
    await raw.set(`${prefix}k`, encodeEnvelope({ value: 'old', createdAt: 1, expiresAt: 2 }));
    expect(await store.get(`${prefix}k`)).toBeUndefined();
  });

  it('deletes a key, and resolves for a key that does not exist', async () => {
    await store.set(`${prefix}k`, createCacheEntry('v', undefined), undefined);
    await store.delete(`${prefix}k`);
    expect(await raw.exists(`${prefix}k`)).toBe(0);
    await expect(store.delete(`${prefix}never`)).resolves.toBeUndefined();
  });

  it('rejects a value it cannot serialize before writing anything', async () => {
    await expect(store.set(`${prefix}k`, createCacheEntry({ id: 1n }, 1000), 1000)).rejects.toThrow(CacheSerializationError);
    await expect(store.set(`${prefix}k`, createCacheEntry({ id: 1n }, 1000), 1000)).rejects.toThrow('value.id is a BigInt');
    expect(await raw.exists(`${prefix}k`)).toBe(0);
  });

  it.each([
    ['text from another program', 'plain text'],
    ['foreign JSON', '{"user":"ada"}'],
    ['a truncated header', '1|1700000000000'],
    ['an unknown version', '9|1||0|1'],
    ['a corrupt payload', '1|1||0|{"a":'],
  ])('rejects %s with CacheSerializationError', async (_label, text) => {
    await raw.set(`${prefix}k`, text);
    await expect(store.get(`${prefix}k`)).rejects.toThrow(CacheSerializationError);
  });

  it('rejects bytes that are not UTF-8 with CacheSerializationError', async () => {
    await raw.set(`${prefix}k`, Buffer.from([0xff, 0xfe, 0x00, 0x7c]));
    await expect(store.get(`${prefix}k`)).rejects.toThrow(CacheSerializationError);
  });

  it.each([
    ['? in it', 'user?', ['userA1', 'userBB']],
    ['* ? [ ] and \\ in it', 'a*b?[c]\\d:', ['aXXbYcd:1', 'a*b?cd:1']],
  ])('clears only keys under a prefix with %s, matching it literally', async (_label, literal, siblingSuffixes) => {
    const clearPrefix = `${prefix}${literal}`;
    const inside = [`${clearPrefix}1`, `${clearPrefix}2`];
    const siblings = siblingSuffixes.map((suffix) => `${prefix}${suffix}`);
    const outside = `${prefix}other`;
    for (const key of [...inside, ...siblings, outside]) await raw.set(key, 'x');
    // The unescaped pattern would take the siblings too, so this test catches a missing escape.
    const unescaped: string[] = [];
    for await (const keys of raw.scanIterator({ MATCH: `${clearPrefix}*`, COUNT: 1000 })) unescaped.push(...keys);
    expect(unescaped).toEqual(expect.arrayContaining(siblings));

    await store.clear(clearPrefix);

    for (const key of inside) expect(await raw.exists(key)).toBe(0);
    for (const key of [...siblings, outside]) expect(await raw.exists(key)).toBe(1);
  });

  it('clears more keys than one SCAN batch holds', async () => {
    const keys: string[] = [];
    for (let index = 0; index < 2_500; index++) keys.push(`${prefix}bulk:${index}`, 'x');
    await raw.mSet(keys);
    await raw.set(`${prefix}keep`, 'x');

    await store.clear(`${prefix}bulk:`);

    expect(await countByPrefix(`${prefix}bulk:`)).toBe(0);
    expect(await raw.exists(`${prefix}keep`)).toBe(1);
  });

  it.each([
    ['without a prefix', undefined],
    ['with an empty prefix', ''],
  ])('refuses to clear %s', async (_label, clearPrefix) => {
    await raw.set(`${prefix}k`, 'x');
    await expect(store.clear(clearPrefix)).rejects.toThrow(LayeredCacheError);
    await expect(store.clear(clearPrefix)).rejects.toThrow(/needs a non-empty key prefix/);
    expect(await raw.exists(`${prefix}k`)).toBe(1);
  });

  it('waits for commands in flight, then closes the client only if it created it', async () => {
    await store.set(`${prefix}k`, createCacheEntry('v', undefined), undefined);
    expect(await connectionNames()).toContain(subject.connectionName);

    const inFlight = store.get(`${prefix}k`);
    await store.close();
    await expect(inFlight).resolves.toMatchObject({ value: 'v' });
    await expect(store.close()).resolves.toBeUndefined();
    await expect(store.get(`${prefix}k`)).rejects.toThrow(/RedisStore is closed/);

    if (owned) {
      expect(await eventually(async () => !(await connectionNames()).includes(subject.connectionName))).toBe(true);
    } else {
      expect(await subject.existingClientWorks?.()).toBe(true);
      expect(await connectionNames()).toContain(subject.connectionName);
    }
  });
});

describe('RedisStore with an existing node-redis client that is not open', () => {
  it('connects it and leaves it open on close()', async () => {
    const prefix = newPrefix();
    const client = createClient({ url: REDIS_URL });
    client.on('error', () => undefined);
    expect(client.isOpen).toBe(false);
    const store = new RedisStore({ client });
    try {
      await store.set(`${prefix}k`, createCacheEntry(1, undefined), undefined);
      expect((await store.get(`${prefix}k`))?.value).toBe(1);
      await store.close();
      expect(client.isOpen).toBe(true);
      expect(await client.ping()).toBe('PONG');
    } finally {
      if (client.isOpen) client.destroy();
    }
  });
});

describe('RedisStore with an ioredis client that has a keyPrefix', () => {
  it('reads concurrent keys under the client prefix', async () => {
    const prefix = newPrefix();
    const client = new IoRedis(REDIS_URL, { keyPrefix: `${prefix}kp:` });
    client.on('error', () => undefined);
    const store = new RedisStore({ client });
    try {
      await store.set('a', createCacheEntry('A', undefined), undefined);
      await store.set('b', createCacheEntry('B', undefined), undefined);
      const [a, missing, b] = await Promise.all([store.get('a'), store.get('missing'), store.get('b')]);
      expect([a?.value, missing, b?.value]).toEqual(['A', undefined, 'B']);
    } finally {
      await store.close();
      client.disconnect();
    }
  });

  it('clears by the store prefix under the client prefix', async () => {
    const prefix = newPrefix();
    const client = new IoRedis(REDIS_URL, { keyPrefix: `${prefix}kp:` });
    client.on('error', () => undefined);
    const store = new RedisStore({ client });
    try {
      await store.set('ns:1', createCacheEntry(1, undefined), undefined);
      await store.set('other:1', createCacheEntry(2, undefined), undefined);
      expect(await raw.exists(`${prefix}kp:ns:1`)).toBe(1);
      await store.clear('ns:');
      expect(await raw.exists(`${prefix}kp:ns:1`)).toBe(0);
      expect(await raw.exists(`${prefix}kp:other:1`)).toBe(1);
    } finally {
      await store.close();
      client.disconnect();
    }
  });
});

describe('RedisStore options', () => {
  it.each([
    ['a plain object', { client: {} }, /must be a node-redis v5 or v6 client .* got a plain object/],
    ['a class instance', { client: new (class Fake {})() }, /got an instance of Fake/],
    ['an unknown driver', { driver: 'memcached' }, /"driver" must be "node-redis" or "ioredis"/],
    ['a zero timeout', { commandTimeoutMs: 0 }, /"commandTimeoutMs" must be a positive integer/],
    ['a fractional timeout', { commandTimeoutMs: 1.5 }, /"commandTimeoutMs" must be a positive integer/],
  ])('rejects %s', (_label, options, message) => {
    expect(() => new RedisStore(options as unknown as RedisStoreOptions)).toThrow(LayeredCacheError);
    expect(() => new RedisStore(options as unknown as RedisStoreOptions)).toThrow(message);
  });

  it('rejects a client together with connection options', () => {
    const client = createClient({ url: REDIS_URL });
    const options = { client, url: REDIS_URL } as unknown as RedisStoreOptions;
    expect(() => new RedisStore(options)).toThrow(/got "client" together with "url"/);
    expect(client.isOpen).toBe(false);
  });

  it('rejects cluster clients of both libraries', () => {
    const ioCluster = new Cluster([], { lazyConnect: true });
    const nodeCluster = createCluster({ rootNodes: [] });
    expect(() => new RedisStore({ client: ioCluster as unknown as IoRedis })).toThrow(/does not support ioredis Cluster clients/);
    expect(() => new RedisStore({ client: nodeCluster as unknown as RawRedis })).toThrow(/does not support node-redis cluster clients/);
    ioCluster.disconnect();
  });
});

/** A TCP server that accepts connections and never answers. */
async function startBlackHole(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(['node-redis', 'ioredis'] as const)('RedisStore (%s) when Redis does not answer', (driver) => {
  const unhandled: unknown[] = [];
  const record = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeAll(() => {
    process.on('unhandledRejection', record);
    process.on('uncaughtException', record);
  });

  afterAll(() => {
    process.off('unhandledRejection', record);
    process.off('uncaughtException', record);
  });

  afterEach(() => {
    expect(unhandled).toEqual([]);
  });

  it('rejects every command with CacheTimeoutError when the server never replies', async () => {
    const blackHole = await startBlackHole();
    const store = new RedisStore({ url: `redis://127.0.0.1:${blackHole.port}`, driver, commandTimeoutMs: 100 });
    try {
      const error = await store.get('k').then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(CacheTimeoutError);
      expect((error as Error).message).toMatch(/Redis GET did not answer within 100 ms.*commandTimeoutMs/);
      await expect(store.set('k', createCacheEntry(1, undefined), 1000)).rejects.toThrow(CacheTimeoutError);
      await expect(store.set('k2', createCacheEntry(2, undefined), 1000)).rejects.toThrow(/Redis SET did not answer within 100 ms/);
      await expect(store.delete('k')).rejects.toThrow(/Redis UNLINK did not answer/);
      await expect(store.clear('p:')).rejects.toThrow(/Redis SCAN did not answer/);
    } finally {
      await store.close();
      await blackHole.close();
    }
  });

  it('neither crashes nor leaks rejections when nothing listens, and its commands reject', async () => {
    const port = await closedPort();
    const store = new RedisStore({ url: `redis://127.0.0.1:${port}`, driver, commandTimeoutMs: 100 });
    try {
      // Let a few connection attempts fail (and emit 'error') before and while a command waits.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const error = await store.get('k').then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(CacheTimeoutError);
      expect((error as Error).message).toContain('ECONNREFUSED');
      expect((error as Error).cause).toBeInstanceOf(Error);
    } finally {
      await store.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  });
});
