import { type CacheEntry, isExpired, withEncodedLength } from '../../core/cache-entry.js';
import { type Deadline, DeadlineQueue } from '../../core/deadline-queue.js';
import { decodeStoredText, encodeDeleteMark, encodeEnvelope } from '../../core/envelope.js';
import { CacheSerializationError, CacheTimeoutError, LayeredCacheError, describeCause } from '../../core/errors.js';
import { JsonSerializer, type Serializer } from '../../core/serializer.js';
import {
  INVALID_POSITIVE_INTEGER_OPTION,
  PAYLOAD_UNDECODABLE,
  REDIS_CLEAR_NEEDS_PREFIX,
  REDIS_CLIENT_WITH_CONNECTION_OPTIONS,
  REDIS_COMMAND_TIMED_OUT,
  REDIS_INVALID_TTL,
  REDIS_STORE_CLOSED,
  REDIS_UNKNOWN_CLIENT,
  REDIS_UNKNOWN_DRIVER,
  REDIS_TRACKING_TAKEN,
  REDIS_UNSUPPORTED_TOPOLOGY,
} from '../../core/messages.js';
import type { InvalidationBus, InvalidationMode, InvalidationSource } from '../../core/invalidation.js';
import { RedisInvalidationBus } from './redis-invalidation-bus.js';
import type { LeaseSource } from '../../core/lease.js';
import { RELEASE_LEASE_SCRIPT, TRY_LEASE_SCRIPT } from './lease.script.js';
import type { CacheStore, DeleteMark } from '../cache-store.interface.js';
import { IoRedisCommands, type IoRedisClientLike, type IoRedisClientOptions, createIoRedisClient, looksLikeIoRedis } from './ioredis.commands.js';
import {
  NodeRedisCommands,
  type NodeRedisClientLike,
  type NodeRedisClientOptions,
  createNodeRedisClient,
  looksLikeNodeRedis,
} from './node-redis.commands.js';
import { type BatchedItem, CommandBatcher } from './command-batcher.js';
import { NEWER_WRITE_SCRIPT, NEWER_WRITES_SCRIPT } from './newer-write.script.js';
import { type NewerWrite, type RedisCommands, type RedisDriver, escapeGlob, replyText, toPxMilliseconds } from './redis-commands.js';
import { assertUrlGivenWhenNamed } from './redis-target.js';
import { CredentialRedactor, credentialsOf } from './redis-credentials.js';
import { DEFAULT_MAX_VALUE_BYTES, assertReplyFits, assertTextFits, validMaxValueBytes } from '../../core/value-size.js';

/** Options every form of {@link RedisStoreOptions} accepts. */
export interface RedisStoreCommonOptions {
  /**
   * Longest wait for any single Redis command, in milliseconds; a slower command rejects with
   * `CacheTimeoutError`. It also bounds waits while Redis is down. Default 2 000. In a `LayeredCache`,
   * callers wait `resilience.timeoutMs` (200) at most; this is how long a command may still answer after
   * that, which is what decides whether a slow write is counted as failed and sent again.
   */
  commandTimeoutMs?: number;
  /** Turns values into text and back. Default `JsonSerializer`. */
  serializer?: Serializer;
  /**
   * Largest entry text the store writes or decodes, in bytes (UTF-8). A longer reply is not converted or
   * parsed: the read rejects with `CacheValueTooLargeError`, which the cache treats as a miss. A
   * `LayeredCache` over this store refuses larger values before any layer is written. Default 8 MiB; at
   * most 512 MiB (Redis's own default limit). Raise it on every instance that shares the keys.
   */
  maxValueBytes?: number;
}

/** The store creates, connects and owns a node-redis v6 client (the default driver; RESP3). */
export interface NodeRedisStoreOptions extends RedisStoreCommonOptions {
  driver?: 'node-redis';
  /** `redis[s]://[[user][:password]@]host[:port][/db]`; default `redis://localhost:6379`. */
  url?: string;
  /** Passed to node-redis's `createClient` (`url` wins over `clientOptions.url`). */
  clientOptions?: NodeRedisClientOptions;
  client?: undefined;
}

/** The store creates and owns an ioredis client; needs the optional `ioredis` package. */
export interface IoRedisStoreOptions extends RedisStoreCommonOptions {
  driver: 'ioredis';
  /** `redis[s]://[[user][:password]@]host[:port][/db]`; default `redis://localhost:6379`. */
  url?: string;
  /** Passed to `new Redis(url, clientOptions)` (ioredis `RedisOptions`; the url wins where both set a field). */
  clientOptions?: IoRedisClientOptions;
  client?: undefined;
}

/**
 * The store uses a client you created and keeps owning: `close()` leaves it open. The kind is detected.
 * A node-redis client that is not open yet is connected by the store (and is still yours to close).
 */
export interface ExistingRedisClientStoreOptions extends RedisStoreCommonOptions {
  client: NodeRedisClientLike | IoRedisClientLike;
  driver?: undefined;
  url?: undefined;
  clientOptions?: undefined;
}

/** Options of {@link RedisStore}: connection options for a client it creates, or an existing `client`. */
export type RedisStoreOptions = NodeRedisStoreOptions | IoRedisStoreOptions | ExistingRedisClientStoreOptions;

/** A command waiting for its reply: what to name and whom to reject when its time limit passes. */
interface PendingCommand {
  readonly command: string;
  readonly reject: (error: unknown) => void;
}

/** A GET waiting in the batcher for its reply. */
interface PendingRead extends PendingCommand, BatchedItem {
  readonly key: string;
}

/** A versioned write waiting in the batcher for its reply. */
interface PendingNewerWrite extends PendingCommand, BatchedItem, NewerWrite {}

/** The default `commandTimeoutMs`. @internal */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;
const SCAN_BATCH = 1000;

/**
 * Shared cache layer on Redis. Entries are stored as versioned text (see `encodeEnvelope`) with the
 * layer's TTL as `PX`. Every command is bounded by `commandTimeoutMs`, so a slow or unreachable Redis
 * turns into `CacheTimeoutError` rejections rather than waiting callers. A client the store creates
 * connects at once, reconnects in the background while Redis is down, and is closed by `close()`.
 *
 * @example
 * const store = new RedisStore({ url: process.env.REDIS_URL, commandTimeoutMs: 100 });
 * await store.set('user:1', createCacheEntry({ name: 'Ada' }, 60_000), 60_000);
 * const entry = await store.get<{ name: string }>('user:1');
 * await store.clear('user:'); // deletes user:* only; clear() without a prefix is refused
 * await store.close();
 *
 * @example
 * // An existing client stays the caller's: close() does not close it.
 * const client = createClient({ url }).on('error', console.error);
 * await client.connect();
 * const store = new RedisStore({ client });
 */
export class RedisStore implements CacheStore, InvalidationSource, LeaseSource {
  /** The client library in use. */
  readonly driver: RedisDriver;
  private readonly commands: RedisCommands;
  /** The first GET of a turn goes out at once, the ones asked for after it as one MGET. */
  private readonly gets: CommandBatcher<PendingRead>;
  /** Versioned writes and delete marks asked for together go out as one script call. */
  private readonly newerWrites: CommandBatcher<PendingNewerWrite>;
  /** Turns values into the text this store keeps; the cache checks a value with it before any layer is written. */
  readonly serializer: Serializer;
  /** Largest entry text written or decoded, in bytes; the cache checks values against it before any layer is written. */
  readonly maxValueBytes: number;
  private readonly timeoutMs: number;
  private inFlight = 0;
  private readonly deadlines = new DeadlineQueue<PendingCommand>((pending) => this.commandTimedOut(pending));
  private onIdle: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  /** A connection carries the CLIENT TRACKING of one bus at most. */
  private trackingTaken = false;

  constructor(options: RedisStoreOptions = {}) {
    this.timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new LayeredCacheError(INVALID_POSITIVE_INTEGER_OPTION('RedisStore', 'commandTimeoutMs', options.commandTimeoutMs));
    }
    this.serializer = options.serializer ?? new JsonSerializer();
    this.maxValueBytes = options.maxValueBytes === undefined ? DEFAULT_MAX_VALUE_BYTES : validMaxValueBytes(options.maxValueBytes, 'RedisStore');
    this.commands = createCommands(options, this.timeoutMs);
    const commands = this.commands;
    this.gets = new CommandBatcher<PendingRead>(
      (read) => commands.get(read.key),
      (reads) => commands.mget(reads.map((read) => read.key)),
      'MGET',
      true,
    );
    this.newerWrites = new CommandBatcher<PendingNewerWrite>(
      (write) => commands.setIfNewer(write.key, write.version, write.value, write.ttlMs, write.deleteMark),
      (writes) => commands.setManyIfNewer(writes),
      'the versioned write script',
    );
    this.driver = this.commands.driver;
    // Loaded at once (ahead of any command queued until the client connects) and on every connection (a
    // restarted Redis has none): else every write sent before the first one's answer would cost a NOSCRIPT
    // reply and a second round trip, which on a slow network outlasts its timeout.
    const preload = (): void => void commands.loadScripts([NEWER_WRITE_SCRIPT, NEWER_WRITES_SCRIPT]).catch(() => undefined);
    preload();
    this.commands.onReady(preload);
  }

  /**
   * Reads and decodes the entry; rejects with `CacheSerializationError` when the stored text is not a valid
   * entry, and with `CacheValueTooLargeError` (one) when it is longer than `maxValueBytes`, checked before
   * it is converted or parsed. The first read of a turn goes out at once; the reads asked for after it, up
   * to the turn's `process.nextTick` queue, go out as one MGET.
   */
  get<T = unknown>(key: string): Promise<CacheEntry<T> | undefined> {
    if (this.closing !== undefined) return Promise.reject(new LayeredCacheError(REDIS_STORE_CLOSED));
    this.inFlight++;
    return new Promise<CacheEntry<T> | undefined>((resolve, reject) => {
      const read: PendingRead = {
        command: 'GET',
        key,
        reject,
        answer: (reply) => {
          if (!this.settled(deadline)) return;
          let entry: CacheEntry<T> | undefined;
          try {
            entry = this.decodeReply<T>(key, reply);
          } catch (error) {
            // Whatever decoding a reply throws (a serializer's own error, a string too long to make) is about these bytes: a miss.
            reject(error instanceof CacheSerializationError ? error : new CacheSerializationError(PAYLOAD_UNDECODABLE(describeCause(error)), { cause: error }));
            return;
          }
          resolve(entry);
        },
        fail: (error) => {
          if (this.settled(deadline)) reject(this.commandError('GET', error, deadline));
        },
      };
      const deadline = this.deadlines.add(read, this.timeoutMs);
      this.gets.enqueue(read);
    });
  }

  /** Stores with `PX ttlMs`; `undefined` (or `Infinity`) stores without expiry; `ttlMs <= 0` deletes the key. */
  set<T = unknown>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): Promise<void> {
    let text: string | undefined;
    try {
      text = this.encodeWrite(key, entry, ttlMs);
    } catch (error) {
      return Promise.reject(error);
    }
    if (text === undefined) return this.delete(key);
    const stored = text;
    const version = entry.version;
    // A versioned entry is stored only over an older one, checked in Redis in the same step as the write.
    if (version !== undefined) return this.writeIfNewer(key, version, stored, pxOf(ttlMs), false);
    return this.run('SET', () => this.commands.set(key, stored, pxOf(ttlMs)), true);
  }

  /**
   * Deletes the key with UNLINK; with a `mark`, leaves a delete mark of that version instead, for at least
   * `mark.ttlMs` (longer when the entry it replaces had longer to live), unless a newer version is there.
   */
  delete(key: string, mark?: DeleteMark): Promise<void> {
    if (mark === undefined) return this.run('UNLINK', () => this.commands.del([key]), true);
    let text: string;
    try {
      text = encodeDeleteMark(mark.version);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.writeIfNewer(key, mark.version, text, Math.max(1, mark.ttlMs), true);
  }

  /**
   * Stores `value` unless the key holds a newer version, bounded by the command timeout. The versioned
   * writes asked for within one run of the microtask queue go out as one script call, in order.
   */
  private writeIfNewer(key: string, version: string, value: string, ttlMs: number | undefined, deleteMark: boolean): Promise<void> {
    if (this.closing !== undefined) return Promise.reject(new LayeredCacheError(REDIS_STORE_CLOSED));
    this.inFlight++;
    return new Promise<void>((resolve, reject) => {
      const write: PendingNewerWrite = {
        command: 'SET',
        key,
        version,
        value,
        ttlMs,
        deleteMark,
        reject,
        answer: () => {
          if (this.settled(deadline)) resolve();
        },
        fail: (error) => {
          if (this.settled(deadline)) reject(this.commandError('SET', error, deadline));
        },
      };
      const deadline = this.deadlines.add(write, this.timeoutMs);
      this.newerWrites.enqueue(write);
    });
  }

  /**
   * Sends `PING` and resolves once Redis answered; rejects with `CacheTimeoutError` after `commandTimeoutMs`
   * (while Redis hangs or cannot be reached), or with the error Redis answered with.
   */
  ping(): Promise<void> {
    return this.run('PING', () => this.commands.ping(), true);
  }

  /** Calls `listener` each time the client is ready again (after a reconnect, and on its first connection). */
  onReconnected(listener: () => void): () => void {
    return this.commands.onReady(listener);
  }

  /**
   * A bus that tells other instances of changes, and this one of theirs (see `InvalidationMode`), over this
   * store's connection and one more of its own. `LayeredCache` builds and starts one for its `invalidation`
   * option. The store's connection carries tracking for one bus: a second `'auto'` bus uses pub/sub.
   * @throws LayeredCacheError for a second `'tracking'` bus on the same store.
   */
  createInvalidationBus(mode: InvalidationMode): InvalidationBus {
    let chosen = mode;
    if (mode !== 'pubsub' && this.trackingTaken) {
      if (mode === 'tracking') throw new LayeredCacheError(REDIS_TRACKING_TAKEN);
      chosen = 'pubsub';
    }
    if (chosen === 'pubsub') return new RedisInvalidationBus(this.commands, chosen, this.timeoutMs);
    this.trackingTaken = true;
    return new RedisInvalidationBus(this.commands, chosen, this.timeoutMs, () => (this.trackingTaken = false));
  }

  /**
   * Takes the lease `lease` for `ttlMs` unless another holder has it (one script call, so it works on a
   * Cluster too): 0 when taken, else the milliseconds the holder's lease has left. See `LeaseSource`.
   */
  async tryLease(lease: string, token: string, ttlMs: number): Promise<number> {
    const left = Number(await this.run('EVALSHA', () => this.commands.runScript(TRY_LEASE_SCRIPT, [lease], [token, String(toPxMilliseconds(ttlMs))])));
    return Number.isFinite(left) && left >= 0 ? left : 1;
  }

  /** Gives the lease back when `token` still holds it. */
  releaseLease(lease: string, token: string): Promise<void> {
    return this.run('EVALSHA', () => this.commands.runScript(RELEASE_LEASE_SCRIPT, [lease], [token]), true);
  }

  /**
   * Deletes every key that starts with `prefix`, scanning in batches (glob characters in the prefix are
   * matched literally). Rejects without a prefix: the store will not wipe a Redis others may share.
   */
  async clear(prefix?: string): Promise<void> {
    if (prefix === undefined || prefix === '') throw new LayeredCacheError(REDIS_CLEAR_NEEDS_PREFIX);
    const match = `${escapeGlob(prefix)}*`;
    let cursor = '0';
    do {
      const from = cursor;
      const page = await this.run('SCAN', () => this.commands.scan(from, match, SCAN_BATCH));
      const keys = page.keys.filter((key) => key.startsWith(prefix));
      if (keys.length > 0) await this.run('UNLINK', () => this.commands.del(keys), true);
      cursor = page.cursor;
    } while (cursor !== '0');
  }

  /**
   * Waits for commands in flight (each is bounded by the timeout), then disconnects a client the store
   * created. A client passed in stays open. Later calls reject; calling `close()` again is harmless.
   */
  close(): Promise<void> {
    this.closing ??= this.drainAndQuit();
    return this.closing;
  }

  private async drainAndQuit(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.onIdle = resolve));
    await this.commands.quit();
  }

  /**
   * Runs one command, rejecting with `CacheTimeoutError` once `timeoutMs` has passed; resolves with the
   * reply, or with nothing when `discardReply` is set (the command is a write).
   */
  private run(command: string, send: () => Promise<unknown>, discardReply: true): Promise<void>;
  private run<R>(command: string, send: () => Promise<R>): Promise<R>;
  private run<R>(command: string, send: () => Promise<R>, discardReply = false): Promise<R | undefined> {
    if (this.closing !== undefined) return Promise.reject(new LayeredCacheError(REDIS_STORE_CLOSED));
    this.inFlight++;
    return new Promise<R | undefined>((resolve, reject) => {
      // Added before the command is sent, so that its deadline passes no later than node-redis's offline timeout.
      const deadline = this.deadlines.add({ command, reject }, this.timeoutMs);
      let sent: Promise<R>;
      try {
        sent = send();
      } catch (error) {
        sent = Promise.reject(error);
      }
      sent.then(
        (value) => {
          if (this.settled(deadline)) resolve(discardReply ? undefined : value);
        },
        (error: unknown) => {
          if (this.settled(deadline)) reject(this.commandError(command, error, deadline));
        },
      );
    });
  }

  /**
   * What a failed command rejects with: the client's own offline timeout (the same limit) may fire a moment
   * before the deadline, and is still our time limit; anything else becomes this library's error, without
   * what the client library keeps of the command (its arguments may hold the password).
   */
  private commandError(command: string, error: unknown, deadline: Deadline<PendingCommand>): unknown {
    return error instanceof CacheTimeoutError || performance.now() >= deadline.at ? this.timeoutError(command) : this.commands.redisError(error);
  }

  /**
   * Checks a write and encodes its entry: the text to SET, or `undefined` when `ttlMs <= 0` asks for a delete.
   * Text longer than `maxValueBytes` is refused, as reading it back would be.
   */
  private encodeWrite(key: string, entry: CacheEntry, ttlMs: number | undefined): string | undefined {
    if (ttlMs !== undefined && (typeof ttlMs !== 'number' || Number.isNaN(ttlMs))) throw new LayeredCacheError(REDIS_INVALID_TTL(ttlMs));
    if (ttlMs !== undefined && ttlMs <= 0) return undefined;
    const text = encodeEnvelope(entry, this.serializer);
    assertTextFits(key, text, this.maxValueBytes);
    return text;
  }

  /** An entry from a GET reply: `undefined` for a missing or expired key; a reply longer than `maxValueBytes` is refused unread. */
  private decodeReply<T>(key: string, reply: unknown): CacheEntry<T> | undefined {
    if (reply === null || reply === undefined) return undefined;
    assertReplyFits(key, reply, this.maxValueBytes);
    const text = typeof reply === 'string' ? reply : replyText(reply);
    const entry = decodeStoredText(text, this.serializer) as CacheEntry<T> | undefined;
    // A delete mark reads as a miss. Redis expires the key itself; this covers clock skew between the writer and Redis.
    // The text's length is the entry's size for an L1 bounded by bytes, which then need not measure it.
    return entry === undefined || isExpired(entry) ? undefined : withEncodedLength(entry, text.length);
  }

  /** A command answered: true unless its deadline had already passed (its caller then got the timeout). */
  private settled(deadline: Deadline<PendingCommand>): boolean {
    if (!this.deadlines.cancel(deadline)) return false;
    this.commandEnded();
    return true;
  }

  private commandTimedOut(pending: PendingCommand): void {
    this.commandEnded();
    pending.reject(this.timeoutError(pending.command));
  }

  private commandEnded(): void {
    if (--this.inFlight === 0) this.onIdle?.();
  }

  private timeoutError(command: string): CacheTimeoutError {
    const cause = this.commands.connectionError;
    return new CacheTimeoutError(REDIS_COMMAND_TIMED_OUT(command, this.timeoutMs, cause?.message), { cause });
  }
}

/** The `PX` of a TTL: none for `undefined` or `Infinity` (the key then has no expiry). */
function pxOf(ttlMs: number | undefined): number | undefined {
  return ttlMs === Number.POSITIVE_INFINITY ? undefined : ttlMs;
}

function createCommands(options: RedisStoreOptions, timeoutMs: number): RedisCommands {
  assertUrlGivenWhenNamed(options);
  // Every username and password the options name, to be hidden in whatever the client library reports.
  const credentials = credentialsOf(options);
  if (options.client !== undefined) {
    const extra = (['driver', 'url', 'clientOptions'] as const).filter((name) => options[name] !== undefined);
    if (extra.length > 0) throw new LayeredCacheError(REDIS_CLIENT_WITH_CONNECTION_OPTIONS(extra.map((name) => `"${name}"`).join(', ')));
    return commandsForClient(options.client, timeoutMs, new CredentialRedactor(credentials));
  }
  const driver: unknown = options.driver ?? 'node-redis';
  if (driver === 'node-redis') {
    const nodeRedis = options as NodeRedisStoreOptions;
    const client = createNodeRedisClient(nodeRedis.url, nodeRedis.clientOptions, new CredentialRedactor(credentials));
    return new NodeRedisCommands(client, true, timeoutMs, redactorFor(credentials, client));
  }
  if (driver === 'ioredis') {
    const ioRedis = options as IoRedisStoreOptions;
    const client = createIoRedisClient(ioRedis.url, ioRedis.clientOptions, new CredentialRedactor(credentials));
    return new IoRedisCommands(client, true, redactorFor(credentials, client));
  }
  throw new LayeredCacheError(REDIS_UNKNOWN_DRIVER(driver));
}

/** The options' credentials and those the created client parsed for itself (from its URL), in case they differ. */
function redactorFor(credentials: readonly string[], client: object): CredentialRedactor {
  return new CredentialRedactor([...credentials, ...credentialsOf({ client })]);
}

function commandsForClient(client: unknown, timeoutMs: number, redactor: CredentialRedactor): RedisCommands {
  if (typeof client !== 'object' || client === null) throw new LayeredCacheError(REDIS_UNKNOWN_CLIENT(describeValue(client)));
  if (looksLikeIoRedis(client)) {
    if (client.isCluster === true) throw new LayeredCacheError(REDIS_UNSUPPORTED_TOPOLOGY('ioredis Cluster'));
    return new IoRedisCommands(client, false, redactor);
  }
  if (looksLikeNodeRedis(client)) {
    if ('masters' in client) throw new LayeredCacheError(REDIS_UNSUPPORTED_TOPOLOGY('node-redis cluster'));
    if ('getMasterNode' in client) throw new LayeredCacheError(REDIS_UNSUPPORTED_TOPOLOGY('node-redis sentinel'));
    return new NodeRedisCommands(client, false, timeoutMs, redactor);
  }
  throw new LayeredCacheError(REDIS_UNKNOWN_CLIENT(describeValue(client)));
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? `an instance of ${name}` : 'a plain object';
}
