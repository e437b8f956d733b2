import { createClient, type RedisClientOptions, TimeoutError } from 'redis';
import { CacheTimeoutError, LayeredCacheError, describeCause } from '../../core/errors.js';
import { REDIS_CLIENT_CREATION_FAILED, REDIS_OFFLINE_TIMEOUT } from '../../core/messages.js';
import type { LuaScript } from './lease.script.js';
import type { CredentialRedactor } from './redis-credentials.js';
import { NEWER_WRITE_SCRIPT, NEWER_WRITE_SHA, NEWER_WRITES_SCRIPT, NEWER_WRITES_SHA, isNoScriptError } from './newer-write.script.js';
import {
  ConnectionErrorTracker,
  type NewerWrite,
  ReadyListeners,
  type RedisCommands,
  type RedisSubscriber,
  type ScanPage,
  type SubscriberHandlers,
  clientIdNamed,
  openSubscriber,
  newerWriteArguments,
  newerWritesArguments,
  replyText,
  toPxMilliseconds,
  trackingCommands,
} from './redis-commands.js';

/**
 * The parts of a node-redis client (`createClient()` from `redis`, v5 or v6) that `RedisStore` uses. Any
 * such client satisfies it, whatever its modules, scripts or RESP version.
 */
export interface NodeRedisClientLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>;
  destroy(): void;
  on(event: 'error' | 'ready', listener: (error: Error) => void): unknown;
  off(event: 'error' | 'ready', listener: (error: Error) => void): unknown;
  /** node-redis's own; the invalidation bus opens its subscriber connection with it. */
  duplicate(overrides?: { name?: string }): unknown;
  readonly options?: { readonly socket?: object };
}

/** The parts of a node-redis client that a subscriber connection uses. */
interface NodeRedisSubscriberClient {
  connect(): Promise<unknown>;
  subscribe(channels: string[], listener: (message: unknown, channel: string) => void): Promise<unknown>;
  destroy(): void;
  readonly isOpen: boolean;
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown;
}

/** Options node-redis's `createClient` accepts. */
export type NodeRedisClientOptions = RedisClientOptions;

/** True for objects that look like a node-redis client, cluster or sentinel. */
export function looksLikeNodeRedis(value: object): value is NodeRedisClientLike {
  const candidate = value as Partial<Record<keyof NodeRedisClientLike, unknown>>;
  return typeof candidate.isOpen === 'boolean' && typeof candidate.sendCommand === 'function';
}

/** Creates a node-redis client for the store to own; it is not connected yet. */
export function createNodeRedisClient(url: string | undefined, options: NodeRedisClientOptions | undefined, redactor: CredentialRedactor): NodeRedisClientLike {
  try {
    return createClient(url === undefined ? options : { ...options, url });
  } catch (error) {
    // A URL that cannot be parsed is quoted whole by the TypeError's `input`: only the redacted message is kept.
    const cause = redactor.error(error);
    throw new LayeredCacheError(REDIS_CLIENT_CREATION_FAILED('node-redis', describeCause(cause)), { cause });
  }
}

/**
 * node-redis's offline timeout is the store's own time limit, which may pass a moment before the store's
 * deadline does; as a `CacheTimeoutError`, the store reports it as its own timeout. node-redis's error says
 * no more than that, so it is not kept.
 */
function asStoreTimeout(this: NodeRedisCommands, error: unknown): never {
  throw error instanceof TimeoutError ? new CacheTimeoutError(REDIS_OFFLINE_TIMEOUT(this.offlineTimeoutMs)) : error;
}

/**
 * Commands over a node-redis client (v5 or v6). A client that is not open is connected here: node-redis
 * retries in the background, so connecting never fails while Redis is down.
 * @internal
 */
export class NodeRedisCommands implements RedisCommands {
  readonly driver = 'node-redis';
  readonly keyPrefix = '';
  private readonly errors: ConnectionErrorTracker;
  private readonly ready = new ReadyListeners();

  /**
   * @param offlineTimeoutMs While the client is not ready, node-redis queues commands; this bound makes
   *   it drop the ones the store has given up on instead of sending them after reconnecting.
   * @param redactor Hides the client's credentials in the errors this library hands on.
   */
  constructor(
    private readonly client: NodeRedisClientLike,
    private readonly owned: boolean,
    readonly offlineTimeoutMs: number,
    private readonly redactor: CredentialRedactor,
  ) {
    this.errors = new ConnectionErrorTracker(redactor);
    client.on('error', this.errors.onError);
    client.on('ready', this.errors.onReady);
    client.on('ready', this.ready.notify);
    if (!client.isOpen) {
      client.connect().catch(() => {
        // Rejects only when a user-supplied reconnectStrategy gives up; the 'error' listener has the cause.
      });
    }
  }

  get connectionError(): Error | undefined {
    return this.errors.current(this.client.isReady);
  }

  get isReady(): boolean {
    return this.client.isReady;
  }

  readonly redisError = (error: unknown): LayeredCacheError => this.redactor.error(error);

  get(key: string): Promise<unknown> {
    return this.send(['GET', key]);
  }

  mget(keys: string[]): Promise<unknown> {
    return this.send(['MGET', ...keys]);
  }

  set(key: string, value: string, ttlMs: number | undefined): Promise<unknown> {
    return this.send(ttlMs === undefined ? ['SET', key, value] : ['SET', key, value, 'PX', String(toPxMilliseconds(ttlMs))]);
  }

  setIfNewer(key: string, version: string, value: string, ttlMs: number | undefined, deleteMark: boolean): Promise<unknown> {
    const args = ['1', key, ...newerWriteArguments({ key, version, value, ttlMs, deleteMark })];
    return this.send(['EVALSHA', NEWER_WRITE_SHA, ...args]).catch((error: unknown) => {
      // EVAL also leaves the script in Redis's cache, so the next write's EVALSHA finds it.
      if (isNoScriptError(error)) return this.send(['EVAL', NEWER_WRITE_SCRIPT, ...args]);
      throw error;
    });
  }

  setManyIfNewer(writes: readonly NewerWrite[]): Promise<unknown> {
    const args = newerWritesArguments(writes, ['EVALSHA', NEWER_WRITES_SHA, String(writes.length)]);
    return this.send(args).catch((error: unknown) => {
      if (isNoScriptError(error)) return this.send(['EVAL', NEWER_WRITES_SCRIPT, ...args.slice(2)]);
      throw error;
    });
  }

  async loadScripts(scripts: readonly string[]): Promise<void> {
    await Promise.all(scripts.map((script) => this.send(['SCRIPT', 'LOAD', script])));
  }

  del(keys: readonly string[]): Promise<unknown> {
    return keys.length > 0 ? this.send(['UNLINK', ...keys]) : Promise.resolve(0);
  }

  async scan(cursor: string, match: string, count: number): Promise<ScanPage> {
    const reply = await this.send(['SCAN', cursor, 'MATCH', match, 'COUNT', String(count)]);
    // Raw SCAN reply: [cursor, [key, ...]] (sendCommand skips the typed method's transform).
    const [next, keys] = reply as [unknown, unknown[]];
    return { cursor: replyText(next), keys: keys.map(replyText) };
  }

  runScript(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const rest = [String(keys.length), ...keys, ...args];
    return this.send(['EVALSHA', script.sha, ...rest]).catch((error: unknown) => {
      if (isNoScriptError(error)) return this.send(['EVAL', script.source, ...rest]);
      throw error;
    });
  }

  ping(): Promise<unknown> {
    return this.send(['PING']);
  }

  publish(channel: string, message: string): Promise<unknown> {
    return this.send(['PUBLISH', channel, message]);
  }

  async subscriberId(name: string): Promise<string | undefined> {
    return clientIdNamed(replyText(await this.send(['CLIENT', 'LIST', 'TYPE', 'pubsub'])), name);
  }

  async trackKeys(redirectId: string, prefix: string): Promise<void> {
    const [off, on] = trackingCommands(redirectId, prefix);
    await this.send(off);
    await this.send(on);
  }

  async stopTracking(): Promise<void> {
    await this.send(['CLIENT', 'TRACKING', 'off']);
  }

  onReady(listener: () => void): () => void {
    return this.ready.add(listener);
  }

  connectSubscriber(name: string | undefined, channels: readonly string[], handlers: SubscriberHandlers): Promise<RedisSubscriber> {
    return openSubscriber(() => {
      // Its own reconnects are turned off: the invalidation bus reconnects it, and learns of every gap that way.
      // RESP2, whatever the store's client speaks: Redis then sends tracking invalidations to it as pub/sub messages.
      const socket = { ...this.client.options?.socket, reconnectStrategy: false };
      // The RESP3-only features a client may have on are off for it (node-redis refuses them with RESP2).
      const overrides = { name, socket, RESP: 2, maintNotifications: 'disabled', clientSideCache: undefined, emitInvalidate: undefined };
      const subscriber = this.client.duplicate(overrides as { name?: string }) as NodeRedisSubscriberClient;
      return {
        on: (event, listener) => subscriber.on(event, listener),
        start: async () => {
          await subscriber.connect();
          await subscriber.subscribe([...channels], (message, channel) => handlers.onMessage(channel, messageOf(message)));
        },
        stop: () => {
          if (subscriber.isOpen) subscriber.destroy();
        },
      };
    }, handlers.onClosed, this.redisError);
  }

  async quit(): Promise<void> {
    this.client.off('ready', this.ready.notify);
    if (!this.owned) {
      this.client.off('error', this.errors.onError);
      this.client.off('ready', this.errors.onReady);
      return;
    }
    // destroy() rather than close(): close() waits for every queued reply, which never comes while
    // Redis is unreachable. The store has already waited for its own commands. The 'error' listener
    // stays because node-redis may still emit from a reconnect attempt that was under way.
    if (this.client.isOpen) this.client.destroy();
  }

  private send(args: string[]): Promise<unknown> {
    if (this.client.isReady) return this.client.sendCommand(args);
    return this.client.sendCommand(args, { timeout: this.offlineTimeoutMs }).catch(asStoreTimeout.bind(this));
  }
}

/** A pub/sub message as the bus takes it: text, or the keys of a tracking invalidation (`null` for a flush). */
function messageOf(message: unknown): string | readonly string[] | null {
  if (message === null || message === undefined) return null;
  if (Array.isArray(message)) return message.map(replyText);
  return replyText(message);
}
