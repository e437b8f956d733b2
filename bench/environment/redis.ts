import { randomUUID } from 'node:crypto';
import IoRedis from 'ioredis';
import { createClient } from 'redis';

/** The Redis every benchmark talks to: loopback unless REDIS_URL says otherwise. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const createNodeRedisClient = (url: string) => createClient({ url });
export type NodeRedisClient = ReturnType<typeof createNodeRedisClient>;

/** Host and port of {@link REDIS_URL}, for clients that take them apart (BentoCache's ioredis options). */
export function redisAddress(): { host: string; port: number } {
  const url = new URL(REDIS_URL);
  return { host: url.hostname, port: url.port === '' ? 6379 : Number(url.port) };
}

/** A key prefix no other run uses; every key a benchmark writes starts with it. */
export function createRunPrefix(): string {
  return `bench-${randomUUID().slice(0, 8)}-`;
}

/** A connected node-redis v5 client. */
export async function connectNodeRedis(): Promise<NodeRedisClient> {
  const client = createNodeRedisClient(REDIS_URL);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** A connected ioredis client, optionally with auto-pipelining. */
export async function connectIoRedis(autoPipelining: boolean): Promise<IoRedis> {
  const client = new IoRedis(REDIS_URL, { enableAutoPipelining: autoPipelining, lazyConnect: true });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Deletes every key that starts with `prefix` (SCAN + UNLINK); returns how many were deleted. */
export async function deleteKeysWithPrefix(client: NodeRedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    if (keys.length > 0) deleted += await client.unlink(keys);
  }
  return deleted;
}

/** The Redis server's version, from INFO. */
export async function redisServerVersion(client: NodeRedisClient): Promise<string> {
  const info = await client.info('server');
  return /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
}
