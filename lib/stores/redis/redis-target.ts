import { LayeredCacheError } from '../../core/errors.js';
import { REDIS_URL_MISSING } from '../../core/messages.js';
import type { RedisDriver } from './redis-commands.js';
import type { RedisStoreOptions } from './redis.store.js';

const DEFAULT_HOST = 'localhost';
const DEFAULT_PORT = 6379;

/** Where a client connects, without anything secret: enough to tell one Redis from another in a log. */
interface RedisTarget {
  readonly host?: string;
  readonly port?: number | string;
  readonly path?: string;
  readonly db?: number | string;
  readonly tls?: boolean;
}

/**
 * Says which Redis a `RedisStore` built from `options` talks to, for logs: host, port, database, TLS and
 * client library, as in `Redis 127.0.0.1:6379 db 0 (node-redis)`. It never contains a username or
 * password, because URLs and client options often carry them and logs are read by many.
 *
 * @example
 * describeRedisTarget({ url: 'redis://app:secret@cache.internal:6380/2' }); // 'Redis cache.internal:6380 db 2 (node-redis)'
 */
export function describeRedisTarget(options: RedisStoreOptions): string {
  if (options.client !== undefined) {
    const client: unknown = options.client;
    const ioRedis = isIoRedisLike(client);
    return render(targetOfClient(client, ioRedis), ioRedis ? 'ioredis' : 'node-redis');
  }
  const driver: RedisDriver = options.driver === 'ioredis' ? 'ioredis' : 'node-redis';
  const clientOptions = record(options.clientOptions);
  const url = options.url ?? (driver === 'node-redis' ? stringOf(clientOptions?.url) : undefined);
  const fromOptions = driver === 'ioredis' ? ioRedisTarget(clientOptions) : nodeRedisTarget(clientOptions);
  if (url === undefined) return render(fromOptions, driver);
  const fromUrl = urlTarget(url);
  // The URL wins over client options where both give a field, as it does in both client libraries.
  return fromUrl === undefined ? `Redis at an address whose URL could not be parsed (${driver})` : render({ ...fromOptions, ...fromUrl }, driver);
}

/**
 * Refuses options that name a `url` but give no value, which is what `{ url: process.env.REDIS_URL }`
 * becomes when the variable is unset: both client libraries would then connect to localhost without a
 * word, and an application meant to share a cache would quietly use a Redis of its own (or none).
 * Leaving `url` out stays the documented way to mean localhost.
 */
export function assertUrlGivenWhenNamed(options: RedisStoreOptions): void {
  if (options.client !== undefined || !Object.prototype.hasOwnProperty.call(options, 'url')) return;
  const url: unknown = options.url;
  if (url === undefined || (typeof url === 'string' && url.trim() === '')) throw new LayeredCacheError(REDIS_URL_MISSING(url === undefined ? 'undefined' : 'empty'));
}

function render(target: RedisTarget, driver: RedisDriver): string {
  const where = target.path !== undefined ? `unix socket ${target.path}` : `${target.host ?? DEFAULT_HOST}:${target.port ?? DEFAULT_PORT}`;
  return `Redis ${where} db ${target.db ?? 0}${target.tls === true ? ' over TLS' : ''} (${driver})`;
}

/** Host, port, database and TLS of a URL; `undefined` when it is not a URL. Credentials are never read. */
function urlTarget(url: string): RedisTarget | undefined {
  // ioredis takes a bare socket path where a URL would go.
  if (url.startsWith('/')) return { path: url };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const db = parsed.searchParams.get('db') ?? parsed.pathname.replace(/^\//, '');
  const socketPath = parsed.protocol === 'unix:' || parsed.protocol === 'redis+unix:';
  return {
    ...(socketPath ? { path: parsed.pathname } : {}),
    ...(parsed.hostname === '' ? {} : { host: parsed.hostname }),
    ...(parsed.port === '' ? {} : { port: parsed.port }),
    ...(/^\d+$/.test(db) ? { db } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: true } : {}),
  };
}

/** node-redis `createClient` options: `socket.host/port/path/tls` and `database`. */
function nodeRedisTarget(options: Record<string, unknown> | undefined): RedisTarget {
  const socket = record(options?.socket);
  return {
    host: stringOf(socket?.host),
    port: numberOrString(socket?.port),
    path: stringOf(socket?.path),
    db: numberOrString(options?.database),
    tls: socket?.tls === true,
  };
}

/** ioredis options (also what an ioredis client keeps after parsing its URL): `host`, `port`, `path`, `db`, `tls`. */
function ioRedisTarget(options: Record<string, unknown> | undefined): RedisTarget {
  return {
    host: stringOf(options?.host),
    port: numberOrString(options?.port),
    path: stringOf(options?.path),
    db: numberOrString(options?.db),
    tls: options?.tls !== undefined && options.tls !== false,
  };
}

/** What a client the store was given says about its target (node-redis keeps its url; ioredis its parsed options). */
function targetOfClient(client: unknown, ioRedis: boolean): RedisTarget {
  const options = record(record(client)?.options);
  if (ioRedis) return ioRedisTarget(options);
  const url = stringOf(options?.url);
  const fromUrl = url === undefined ? undefined : urlTarget(url);
  return { ...nodeRedisTarget(options), ...fromUrl };
}

function isIoRedisLike(client: unknown): boolean {
  const candidate = record(client);
  return typeof candidate?.status === 'string' && record(candidate.options) !== undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function numberOrString(value: unknown): number | string | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : stringOf(value);
}
