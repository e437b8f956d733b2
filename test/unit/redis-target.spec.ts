import { createClient } from 'redis';
import IoRedis from 'ioredis';
import { describe, expect, it } from 'vitest';
import { LayeredCacheError, RedisStore, type RedisStoreOptions } from '../../lib';
import { describeRedisTarget } from '../../lib/stores/redis/redis-target';

describe('describeRedisTarget', () => {
  it('names host, port and db of a URL and never its username or password', () => {
    const text = describeRedisTarget({ url: 'redis://user:secret@cache.internal:6380/2' });
    expect(text).toBe('Redis cache.internal:6380 db 2 (node-redis)');
    expect(text).not.toContain('secret');
    expect(text).not.toContain('user');
  });

  it('hides a password given without a username, and says when the connection uses TLS', () => {
    const text = describeRedisTarget({ url: 'rediss://:hunter2@10.0.0.5', driver: 'ioredis' });
    expect(text).toBe('Redis 10.0.0.5:6379 db 0 over TLS (ioredis)');
    expect(text).not.toContain('hunter2');
  });

  it('describes the documented default when no URL is given', () => {
    expect(describeRedisTarget({})).toBe('Redis localhost:6379 db 0 (node-redis)');
  });

  it('reads node-redis socket options and database, without their password', () => {
    const options: RedisStoreOptions = { clientOptions: { socket: { host: '10.1.2.3', port: 7000 }, database: 4, password: 'pw-in-options', username: 'admin' } };
    const text = describeRedisTarget(options);
    expect(text).toBe('Redis 10.1.2.3:7000 db 4 (node-redis)');
    expect(text).not.toMatch(/pw-in-options|admin/);
  });

  it('reads ioredis options, and the URL wins where both give a field', () => {
    expect(describeRedisTarget({ driver: 'ioredis', clientOptions: { host: 'a.example', port: 6390, db: 3, password: 'x' } })).toBe('Redis a.example:6390 db 3 (ioredis)');
    expect(describeRedisTarget({ driver: 'ioredis', url: 'redis://b.example:6391', clientOptions: { host: 'a.example', db: 3 } })).toBe('Redis b.example:6391 db 3 (ioredis)');
  });

  it('describes an existing node-redis client from its URL without the secret', () => {
    const client = createClient({ url: 'redis://user:secret@127.0.0.1:6381/5' });
    const text = describeRedisTarget({ client });
    expect(text).toBe('Redis 127.0.0.1:6381 db 5 (node-redis)');
    expect(text).not.toContain('secret');
  });

  it('describes an existing ioredis client from its parsed options without the secret', () => {
    const client = new IoRedis('redis://user:secret@127.0.0.1:6382/6', { lazyConnect: true });
    const text = describeRedisTarget({ client });
    expect(text).toBe('Redis 127.0.0.1:6382 db 6 (ioredis)');
    expect(text).not.toContain('secret');
    client.disconnect();
  });

  it('describes a unix socket given as a path or a URL', () => {
    expect(describeRedisTarget({ driver: 'ioredis', url: '/var/run/redis.sock' })).toBe('Redis unix socket /var/run/redis.sock db 0 (ioredis)');
    expect(describeRedisTarget({ url: 'unix:///var/run/redis.sock?db=3' })).toBe('Redis unix socket /var/run/redis.sock db 3 (node-redis)');
    expect(describeRedisTarget({ clientOptions: { socket: { path: '/tmp/r.sock', tls: false } } })).toBe('Redis unix socket /tmp/r.sock db 0 (node-redis)');
  });

  it('does not echo a URL it cannot parse, which may still hold a password', () => {
    const text = describeRedisTarget({ driver: 'ioredis', url: 'not a url :secret@' });
    expect(text).not.toContain('secret');
    expect(text).toContain('could not be parsed');
  });
});

describe('RedisStore url option', () => {
  it('refuses a url key whose value is undefined, as { url: process.env.REDIS_URL } gives with the variable unset', () => {
    const unset: string | undefined = undefined;
    expect(() => new RedisStore({ url: unset })).toThrow(LayeredCacheError);
    expect(() => new RedisStore({ url: unset })).toThrow(/"url" \(l2\.url in LayeredCacheModule\) is undefined: is the environment variable .*REDIS_URL.* set\?.*l2: false/);
    expect(() => new RedisStore({ url: unset, driver: 'ioredis' })).toThrow(/is undefined/);
  });

  it('refuses an empty or blank url', () => {
    expect(() => new RedisStore({ url: '' })).toThrow(/"url" .* is empty/);
    expect(() => new RedisStore({ url: '  ' })).toThrow(/"url" .* is empty/);
  });

  it('still connects to the documented default when url is left out', async () => {
    const store = new RedisStore({ commandTimeoutMs: 2_000 });
    expect(store.driver).toBe('node-redis');
    await store.close();
  });
});
