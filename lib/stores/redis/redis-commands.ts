import type { LayeredCacheError } from '../../core/errors.js';
import type { LuaScript } from './lease.script.js';
import type { CredentialRedactor } from './redis-credentials.js';
/** Which Redis client library a `RedisStore` drives. */
export type RedisDriver = 'node-redis' | 'ioredis';

/** One write of {@link RedisCommands.setManyIfNewer}: the arguments of `setIfNewer`. */
export interface NewerWrite {
  readonly key: string;
  readonly version: string;
  readonly value: string;
  readonly ttlMs: number | undefined;
  readonly deleteMark: boolean;
}

/** The script arguments of a write: its version, text, `PX` (empty for none) and whether it is a delete mark. */
export function newerWriteArguments(write: NewerWrite): [string, string, string, string] {
  // The script compares what the key holds with the head of this write's envelope: `2|` and its version.
  return [`2|${write.version}`, write.value, pxArgument(write.ttlMs), write.deleteMark ? '1' : '0'];
}

/**
 * `prefix`, then the keys and the arguments of `NEWER_WRITES_SCRIPT` for `writes`, in one array: a burst of
 * hundreds of writes makes no array per write.
 * @internal
 */
export function newerWritesArguments(writes: readonly NewerWrite[], prefix: readonly string[]): string[] {
  const args = [...prefix];
  for (const write of writes) args.push(write.key);
  for (const write of writes) args.push(`2|${write.version}`, write.value, pxArgument(write.ttlMs), write.deleteMark ? '1' : '0');
  return args;
}

function pxArgument(ttlMs: number | undefined): string {
  return ttlMs === undefined ? '' : String(toPxMilliseconds(ttlMs));
}

/** One page of a SCAN: the cursor to continue from (`'0'` when done) and the keys found. */
export interface ScanPage {
  readonly cursor: string;
  readonly keys: readonly string[];
}

/**
 * The few Redis commands `RedisStore` sends, independent of the client library. Implementations do not
 * bound their calls with a timeout (the store does) and never throw synchronously.
 *
 * Their promises reject with the client library's own errors, as they are: those may carry the arguments of
 * a command, the password of `AUTH` among them. Whoever catches one hands on only what {@link redisError}
 * makes of it (`RedisStore` and the invalidation bus do), so that no command costs a promise more for it.
 * What an implementation reports by itself (`connectionError`, a subscriber's `onClosed` and the rejection
 * of `connectSubscriber`) is this library's error already.
 * @internal
 */
export interface RedisCommands {
  readonly driver: RedisDriver;
  /** The last connection error while the client is not ready, as a `RedisCommandError`; `undefined` once it is ready again. */
  readonly connectionError: Error | undefined;
  /**
   * This library's error for one that a command rejected with: a `RedisCommandError` without the client
   * library's command arguments and with the credentials of the client hidden (see `CredentialRedactor`).
   */
  redisError(error: unknown): LayeredCacheError;
  /** SCRIPT LOAD of each script, so that the EVALSHAs sent after it find them. */
  loadScripts(scripts: readonly string[]): Promise<void>;
  /**
   * GET: the client's reply as it is, `null` when the key is absent (see {@link replyText}). Replies are
   * passed through untouched, so that a read costs no promise of its own here.
   */
  get(key: string): Promise<unknown>;
  /** MGET: the client's replies, one per key in order (`null` where a key is absent). */
  mget(keys: string[]): Promise<unknown>;
  /** SET with `PX` when `ttlMs` is given (see {@link toPxMilliseconds}), without expiry otherwise; resolves with the client's reply. */
  set(key: string, value: string, ttlMs: number | undefined): Promise<unknown>;
  /**
   * Runs the newer-write script (see `NEWER_WRITE_SCRIPT`): stores `value` unless the key holds a newer
   * version than `version`; `deleteMark` makes the `PX` outlive what the key had left. Resolves with 1 when
   * it stored, 0 when it did not. Loads the script into Redis when Redis does not hold it yet.
   */
  setIfNewer(key: string, version: string, value: string, ttlMs: number | undefined, deleteMark: boolean): Promise<unknown>;
  /** `setIfNewer` for many writes in one script call; resolves with one 1 or 0 per write, in order. */
  setManyIfNewer(writes: readonly NewerWrite[]): Promise<unknown>;
  /** UNLINK (deletes without blocking Redis on large values); resolves with the client's reply. */
  del(keys: readonly string[]): Promise<unknown>;
  /** SCAN with MATCH and COUNT; `match` is a Redis glob pattern. */
  scan(cursor: string, match: string, count: number): Promise<ScanPage>;
  /** Runs `script` with `EVALSHA`, loading it with `EVAL` when Redis does not hold it yet; resolves with its answer. */
  runScript(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** PING: resolves with the client's reply once Redis answered. */
  ping(): Promise<unknown>;
  /** PUBLISH `message` on `channel`. */
  publish(channel: string, message: string): Promise<unknown>;
  /**
   * The `CLIENT ID` of the connection named `name` among the subscriber connections (`CLIENT LIST TYPE
   * pubsub`), or `undefined`. A subscribed connection cannot answer `CLIENT ID` itself.
   */
  subscriberId(name: string): Promise<string | undefined>;
  /**
   * Turns on `CLIENT TRACKING` in broadcast mode on the store's own connection for keys under `prefix`,
   * sending the invalidations to connection `redirectId`, and never for changes made through this
   * connection (`NOLOOP`). Tracking that was on is turned off first, so it can move to a new connection.
   */
  trackKeys(redirectId: string, prefix: string): Promise<void>;
  /** `CLIENT TRACKING off` on the store's own connection; rejects when Redis refuses the command. */
  stopTracking(): Promise<void>;
  /** Calls `listener` every time the store's connection becomes ready (after each connect and reconnect). */
  onReady(listener: () => void): () => void;
  /** True while the store's connection is ready for commands. */
  readonly isReady: boolean;
  /** What the client adds in front of every key it sends (ioredis `keyPrefix`); `''` for none. */
  readonly keyPrefix: string;
  /**
   * Opens a connection of its own, with the client's options and the connection name `name` (none when
   * `undefined`), that does not
   * reconnect by itself; resolves once it is subscribed to `channels`. It hands every message to
   * `handlers.onMessage` and calls `handlers.onClosed` once when it is lost or closed.
   */
  connectSubscriber(name: string | undefined, channels: readonly string[], handlers: SubscriberHandlers): Promise<RedisSubscriber>;
  /** Disconnects a client the store created; only detaches from a client it was given. */
  quit(): Promise<void>;
}

/** What a {@link RedisSubscriber} calls. */
export interface SubscriberHandlers {
  /** A message: text on a channel of ours; the keys (or `null` for a flush) on the tracking channel. */
  onMessage(channel: string, message: string | readonly string[] | null): void;
  /** The connection is gone (lost, or closed); called once. */
  onClosed(error: Error | undefined): void;
}

/** A subscriber connection made by {@link RedisCommands.connectSubscriber}. */
export interface RedisSubscriber {
  /** Disconnects; `onClosed` is called if it has not been yet. */
  close(): void;
}

/** One driver's subscriber connection, as {@link openSubscriber} drives it. */
export interface SubscriberConnection {
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown;
  /** Connects, subscribes to the channels and begins handing messages on. */
  start(): Promise<unknown>;
  /** Disconnects, when it is still connected. */
  stop(): void;
}

/**
 * What both drivers share of a subscriber connection's life: `onClosed` is called exactly once, when the
 * connection could not be made, is lost, ends or is closed; a failure to start closes it and rejects. The
 * errors it hands on are `redisError`'s of the client library's.
 * @internal
 */
export async function openSubscriber(
  create: () => SubscriberConnection,
  onClosed: (error: Error | undefined) => void,
  redisError: (error: unknown) => LayeredCacheError,
): Promise<RedisSubscriber> {
  let connection: SubscriberConnection;
  try {
    connection = create();
  } catch (error) {
    const ours = redisError(error);
    onClosed(ours);
    throw ours;
  }
  let closed = false;
  const close = (error?: Error): void => {
    if (closed) return;
    closed = true;
    connection.stop();
    onClosed(error);
  };
  connection.on('error', (error) => close(redisError(error ?? new Error('connection lost'))));
  connection.on('end', () => close(undefined));
  try {
    await connection.start();
  } catch (error) {
    const ours = redisError(error);
    close(ours);
    throw ours;
  }
  return { close: () => close(undefined) };
}

/** The channel on which Redis sends the invalidations of `CLIENT TRACKING ... REDIRECT`. */
export const TRACKING_CHANNEL = '__redis__:invalidate';

/** Parses the id of the connection named `name` out of a `CLIENT LIST` reply. */
export function clientIdNamed(list: string, name: string): string | undefined {
  for (const line of list.split('\n')) {
    const fields = line.trim().split(' ');
    if (!fields.includes(`name=${name}`)) continue;
    const id = fields.find((field) => field.startsWith('id='));
    if (id !== undefined) return id.slice(3);
  }
  return undefined;
}

/** The `CLIENT TRACKING` commands of {@link RedisCommands.trackKeys}. */
export function trackingCommands(redirectId: string, prefix: string): [string[], string[]] {
  const on = ['CLIENT', 'TRACKING', 'on', 'REDIRECT', redirectId, 'BCAST'];
  if (prefix !== '') on.push('PREFIX', prefix);
  on.push('NOLOOP');
  return [['CLIENT', 'TRACKING', 'off'], on];
}

/** A listener set for `onReady`. @internal */
export class ReadyListeners {
  private readonly listeners = new Set<() => void>();
  readonly notify = (): void => {
    for (const listener of [...this.listeners]) listener();
  };
  add(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** A reply as text: node-redis returns Buffers when the client maps blob strings to them. */
export function replyText(reply: unknown): string {
  return typeof reply === 'string' ? reply : Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply);
}

/** The `PX` argument for a TTL: whole milliseconds rounded up, at least 1 (`PX 0` is an error in Redis). */
export function toPxMilliseconds(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}

const GLOB_SPECIAL = /[*?[\]\\]/g;

/** Escapes `* ? [ ] \` so that `text` matches only itself in a SCAN MATCH pattern. */
export function escapeGlob(text: string): string {
  return text.replace(GLOB_SPECIAL, '\\$&');
}

/**
 * Remembers the last connection error of a client until it is ready again, so that a timeout can say
 * why; as this library's error, since the timeout hands it on as its cause. The `'error'` listener also
 * keeps an unlistened error event from crashing the process.
 * @internal
 */
export class ConnectionErrorTracker {
  private lastError: Error | undefined;
  constructor(private readonly redactor: CredentialRedactor) {}
  readonly onError = (error: unknown): void => {
    this.lastError = this.redactor.error(error);
  };
  readonly onReady = (): void => {
    this.lastError = undefined;
  };

  /** The remembered error, or `undefined` when `ready` says the client is ready. */
  current(ready: boolean): Error | undefined {
    return ready ? undefined : this.lastError;
  }
}
