import { LayeredCacheError, describeCause } from '../../core/errors.js';
import { REDIS_CLIENT_CREATION_FAILED, REDIS_IOREDIS_MISSING } from '../../core/messages.js';
import { requirePeer } from '../../core/require-peer.cjs';
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
  escapeGlob,
  newerWriteArguments,
  newerWritesArguments,
  replyText,
  toPxMilliseconds,
  trackingCommands,
} from './redis-commands.js';

/**
 * The parts of an ioredis instance (`new Redis()`) that `RedisStore` uses. Declared here so that the
 * published types do not need `ioredis`, which is an optional peer dependency.
 */
export interface IoRedisClientLike {
  readonly status: string;
  readonly options: { readonly keyPrefix?: string };
  readonly isCluster?: boolean;
  get(key: string): Promise<string | null>;
  mget(keys: string[]): Promise<(string | null)[]>;
  set(key: string, value: string): Promise<unknown>;
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number): Promise<unknown>;
  unlink(...keys: string[]): Promise<number>;
  evalsha(sha: string, numberOfKeys: number, ...args: string[]): Promise<unknown>;
  eval(script: string, numberOfKeys: number, ...args: string[]): Promise<unknown>;
  scan(cursor: string, matchToken: 'MATCH', pattern: string, countToken: 'COUNT', count: number): Promise<[cursor: string, keys: string[]]>;
  disconnect(): void;
  on(event: 'error' | 'ready', listener: (error: Error) => void): unknown;
  off(event: 'error' | 'ready', listener: (error: Error) => void): unknown;
  publish(channel: string, message: string): Promise<unknown>;
  call(command: string, ...args: string[]): Promise<unknown>;
  /** ioredis's own; the invalidation bus opens its subscriber connection with it. */
  duplicate(override?: { connectionName?: string }): unknown;
}

/** The parts of an ioredis instance that a subscriber connection uses. */
interface IoRedisSubscriberClient {
  connect(): Promise<unknown>;
  subscribe(...channels: string[]): Promise<unknown>;
  disconnect(): void;
  readonly status: string;
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown;
  on(event: 'messageBuffer', listener: (channel: Buffer, message: Buffer | Buffer[] | null) => void): unknown;
}

/** Options ioredis's constructor accepts (`RedisOptions` of `ioredis`), kept loose so that ioredis stays optional. */
export interface IoRedisClientOptions {
  readonly [option: string]: unknown;
}

type IoRedisConstructor = new (...args: [string, IoRedisClientOptions] | [IoRedisClientOptions]) => IoRedisClientLike;

/** True for objects that look like an ioredis instance or cluster. */
export function looksLikeIoRedis(value: object): value is IoRedisClientLike {
  const candidate = value as Partial<Record<keyof IoRedisClientLike, unknown>>;
  return typeof candidate.status === 'string' && typeof candidate.options === 'object' && candidate.options !== null;
}

/**
 * Creates an ioredis client for the store to own. ioredis connects on creation (unless `lazyConnect`)
 * and reconnects in the background; it is loaded only here, so projects on node-redis need not install it.
 */
export function createIoRedisClient(url: string | undefined, options: IoRedisClientOptions | undefined, redactor: CredentialRedactor): IoRedisClientLike {
  const IoRedis = loadIoRedis();
  try {
    return url === undefined ? new IoRedis(options ?? {}) : new IoRedis(url, options ?? {});
  } catch (error) {
    // A URL that cannot be parsed is quoted whole by the TypeError's `input`: only the redacted message is kept.
    const cause = redactor.error(error);
    throw new LayeredCacheError(REDIS_CLIENT_CREATION_FAILED('ioredis', describeCause(cause)), { cause });
  }
}

function loadIoRedis(): IoRedisConstructor {
  let exported: { default?: IoRedisConstructor } & IoRedisConstructor;
  try {
    // A runtime load keeps ioredis optional; `import` at the top would make every user install it.
    exported = requirePeer('ioredis') as typeof exported;
  } catch (error) {
    throw new LayeredCacheError(REDIS_IOREDIS_MISSING(describeCause(error)), { cause: error });
  }
  return exported.default ?? exported;
}

/**
 * Commands over an ioredis instance. Keys passed to commands get the client's `keyPrefix` from
 * ioredis itself; SCAN patterns and SCAN results do not, so `scan` adds and strips it here.
 * @internal
 */
export class IoRedisCommands implements RedisCommands {
  readonly driver = 'ioredis';
  private readonly errors: ConnectionErrorTracker;
  private readonly ready = new ReadyListeners();
  readonly keyPrefix: string;

  /** @param redactor Hides the client's credentials in the errors this library hands on. */
  constructor(
    private readonly client: IoRedisClientLike,
    private readonly owned: boolean,
    private readonly redactor: CredentialRedactor,
  ) {
    this.errors = new ConnectionErrorTracker(redactor);
    this.keyPrefix = client.options.keyPrefix ?? '';
    client.on('error', this.errors.onError);
    client.on('ready', this.errors.onReady);
    client.on('ready', this.ready.notify);
  }

  get connectionError(): Error | undefined {
    return this.errors.current(this.client.status === 'ready');
  }

  get isReady(): boolean {
    return this.client.status === 'ready';
  }

  /** ioredis errors keep the failed command's arguments (`AUTH`'s are the password); none of them is kept. */
  readonly redisError = (error: unknown): LayeredCacheError => this.redactor.error(error);

  get(key: string): Promise<unknown> {
    return this.client.get(key);
  }

  mget(keys: string[]): Promise<unknown> {
    return this.client.mget(keys);
  }

  set(key: string, value: string, ttlMs: number | undefined): Promise<unknown> {
    return ttlMs === undefined ? this.client.set(key, value) : this.client.set(key, value, 'PX', toPxMilliseconds(ttlMs));
  }

  setIfNewer(key: string, version: string, value: string, ttlMs: number | undefined, deleteMark: boolean): Promise<unknown> {
    const args = [key, ...newerWriteArguments({ key, version, value, ttlMs, deleteMark })];
    return this.client.evalsha(NEWER_WRITE_SHA, 1, ...args).catch((error: unknown) => {
      // EVAL also leaves the script in Redis's cache, so the next write's EVALSHA finds it.
      if (isNoScriptError(error)) return this.client.eval(NEWER_WRITE_SCRIPT, 1, ...args);
      throw error;
    });
  }

  setManyIfNewer(writes: readonly NewerWrite[]): Promise<unknown> {
    const args = newerWritesArguments(writes, []);
    return this.client.evalsha(NEWER_WRITES_SHA, writes.length, ...args).catch((error: unknown) => {
      if (isNoScriptError(error)) return this.client.eval(NEWER_WRITES_SCRIPT, writes.length, ...args);
      throw error;
    });
  }

  async loadScripts(scripts: readonly string[]): Promise<void> {
    await Promise.all(scripts.map((script) => this.client.call('SCRIPT', 'LOAD', script)));
  }

  del(keys: readonly string[]): Promise<unknown> {
    return keys.length > 0 ? this.client.unlink(...keys) : Promise.resolve(0);
  }

  async scan(cursor: string, match: string, count: number): Promise<ScanPage> {
    const [next, keys] = await this.client.scan(cursor, 'MATCH', escapeGlob(this.keyPrefix) + match, 'COUNT', count);
    const prefixLength = this.keyPrefix.length;
    return { cursor: next, keys: prefixLength === 0 ? keys : keys.map((key) => key.slice(prefixLength)) };
  }

  runScript(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.client.evalsha(script.sha, keys.length, ...keys, ...args).catch((error: unknown) => {
      if (isNoScriptError(error)) return this.client.eval(script.source, keys.length, ...keys, ...args);
      throw error;
    });
  }

  ping(): Promise<unknown> {
    return this.client.call('PING');
  }

  publish(channel: string, message: string): Promise<unknown> {
    return this.client.publish(channel, message);
  }

  async subscriberId(name: string): Promise<string | undefined> {
    return clientIdNamed(replyText(await this.client.call('CLIENT', 'LIST', 'TYPE', 'pubsub')), name);
  }

  async trackKeys(redirectId: string, prefix: string): Promise<void> {
    const [off, on] = trackingCommands(redirectId, this.keyPrefix + prefix);
    await this.client.call(off[0], ...off.slice(1));
    await this.client.call(on[0], ...on.slice(1));
  }

  async stopTracking(): Promise<void> {
    await this.client.call('CLIENT', 'TRACKING', 'off');
  }

  onReady(listener: () => void): () => void {
    return this.ready.add(listener);
  }

  connectSubscriber(name: string | undefined, channels: readonly string[], handlers: SubscriberHandlers): Promise<RedisSubscriber> {
    const prefixLength = this.keyPrefix.length;
    return openSubscriber(() => {
      const subscriber = this.duplicateForSubscribing(name);
      subscriber.on('messageBuffer', (channel, message) => {
        if (message === null || Array.isArray(message)) {
          // Tracking invalidations name keys as Redis stores them: with the client's keyPrefix, which the store's keys leave out.
          handlers.onMessage(channel.toString('utf8'), message === null ? null : message.map((key) => key.toString('utf8').slice(prefixLength)));
        } else handlers.onMessage(channel.toString('utf8'), message.toString('utf8'));
      });
      return {
        on: (event, listener) => subscriber.on(event, listener),
        start: async () => {
          await subscriber.connect();
          await subscriber.subscribe(...channels);
        },
        stop: () => {
          if (subscriber.status !== 'end') subscriber.disconnect();
        },
      };
    }, handlers.onClosed, this.redisError);
  }

  /** A connection like the client's, that neither reconnects nor resubscribes by itself. */
  private duplicateForSubscribing(name: string | undefined): IoRedisSubscriberClient {
    const overrides = {
      connectionName: name,
      lazyConnect: true,
      autoResubscribe: false,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      // RESP2 (ioredis 6 speaks RESP3 by default): Redis then sends tracking invalidations to it as pub/sub messages.
      protocol: 2,
    };
    return this.client.duplicate(overrides as { connectionName?: string }) as IoRedisSubscriberClient;
  }

  async quit(): Promise<void> {
    this.client.off('ready', this.ready.notify);
    if (!this.owned) {
      this.client.off('error', this.errors.onError);
      this.client.off('ready', this.errors.onReady);
      return;
    }
    // disconnect() rather than quit(): QUIT waits for a reply that never comes while Redis is unreachable,
    // and the store has already waited for its own commands. The 'error' listener stays for late events.
    if (this.client.status !== 'end') this.client.disconnect();
  }
}
