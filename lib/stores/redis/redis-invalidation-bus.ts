import { randomUUID } from 'node:crypto';
import { CacheTimeoutError, LayeredCacheError, describeCause } from '../../core/errors.js';
import type { InvalidationBus, InvalidationListener, InvalidationMode } from '../../core/invalidation.js';
import {
  INVALIDATION_CONNECTION_LOST,
  INVALIDATION_DOWN_AT_CLOSE,
  INVALIDATION_PUBLISH_FAILED,
  INVALIDATION_TRACKING_ECHOES,
  INVALIDATION_TRACKING_FAILED,
  INVALIDATION_TRACKING_REFUSED,
  REDIS_COMMAND_TIMED_OUT,
} from '../../core/messages.js';
import { withTimeout } from '../../core/with-timeout.js';
import { Backoff } from '../../core/backoff.js';
import { type RedisCommands, type RedisSubscriber, TRACKING_CHANNEL } from './redis-commands.js';
import { luaScript } from './lease.script.js';

/** Channels of `pubsub` invalidation: this, then the namespace prefix of the keys. */
const CHANNEL_PREFIX = 'nestjs-layered-cache:invalidate:';
/** Keys in one published message at most; a bigger batch goes out as several. */
const MAX_KEYS_PER_MESSAGE = 1_000;
/** Announcements kept while it is not known yet whether they are needed (before the first connection). */
const MAX_UNDECIDED_ANNOUNCEMENTS = 10_000;
/** How long `start` waits for the first connection before it lets the application go on starting. */
const START_WAIT_MS = 1_000;
/** How long `auto` waits for the echo of its probe write. */
const ECHO_WAIT_MS = 200;
/** A write through a script, as the store's versioned writes are, of a key that lives a second. */
const PROBE_SCRIPT = luaScript("redis.call('SET', KEYS[1], '1', 'PX', 1000) return 1");
/**
 * How long announcements are gathered before they go out as one PUBLISH. Each message also reaches this
 * instance's own subscriber and delays the store's next reply on the shared connection, so one per write
 * would cost every write; a millisecond is far below the TTLs it protects, and a burst still costs one.
 */
const PUBLISH_WINDOW_MS = 1;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

/** What one `pubsub` message carries: who sent it, and the keys it changed (with their versions) or the prefix it cleared. */
interface InvalidationMessage {
  readonly from: string;
  readonly keys?: readonly string[];
  readonly versions?: readonly (string | null)[];
  /** A clear: the prefix cleared, `null` for every key. */
  readonly cleared?: string | null;
}

/**
 * The invalidation bus of a `RedisStore` (see `InvalidationMode`). It listens on a connection of its own,
 * named so that Redis can be told where to send tracking messages; that connection does not reconnect by
 * itself: the bus reconnects it with back-off, and every time it listens again (and every time the store's
 * own connection comes back, which turns tracking off in Redis) it tells the cache that messages may have
 * been lost, so that L1 drops what could be stale.
 *
 * - Tracking: `CLIENT TRACKING on REDIRECT <listener> BCAST PREFIX <prefix> NOLOOP` on the store's connection.
 *   Redis reports every change of a key under the prefix made through any other connection, this
 *   instance's own writes excepted, and announcing costs nothing.
 * - Pub/sub: changes this cache made are announced after L2 acknowledged them, gathered for a millisecond
 *   into one PUBLISH of keys and versions (never values) on the channel of the prefix.
 * - Auto: tracking, unless Redis answers `CLIENT TRACKING` with an error; then pub/sub, said once.
 * @internal
 */
export class RedisInvalidationBus implements InvalidationBus {
  /** The name of the listening connection, and the sender id of this bus's messages. */
  private readonly name = `layered-cache-${randomUUID()}`;
  /** How this bus's own messages start (`JSON.stringify` writes `from` first): they are skipped unparsed. */
  private readonly ownMessageStart = `{"from":${JSON.stringify(this.name)}`;
  private listener: InvalidationListener | undefined;
  private prefix = '';
  private channel = CHANNEL_PREFIX;
  /** What is in use; `undefined` until the first connection decides it. */
  private using: 'tracking' | 'pubsub' | undefined;
  private subscriber: RedisSubscriber | undefined;
  private listening = false;
  private closed = false;
  private stopWatchingStore: (() => void) | undefined;
  private readonly retries = new Backoff(RETRY_MIN_MS, RETRY_MAX_MS);
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private pendingKeys: string[] = [];
  private pendingVersions: (string | null)[] = [];
  private pendingClears: (string | null)[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly publishing = new Set<Promise<unknown>>();
  private readonly firstListen: { promise: Promise<void>; resolve: () => void };
  /** Whether `auto` has checked that Redis keeps this connection's own script writes to itself (see `avoidTrackingThatEchoes`). */
  private echoChecked = false;
  private probe: { readonly key: string; echoed(): void } | undefined;

  /**
   * @param commandTimeoutMs The store's command timeout, which bounds every command of the bus too, so that a
   *   hung Redis can neither hold `close()` nor stall the set-up of tracking.
   * @param release Called once when the bus closes (the store then lets another cache use tracking).
   */
  constructor(
    private readonly commands: RedisCommands,
    private readonly mode: InvalidationMode,
    private readonly commandTimeoutMs: number,
    private readonly release: () => void = () => undefined,
  ) {
    let resolve!: () => void;
    const promise = new Promise<void>((done) => (resolve = done));
    this.firstListen = { promise, resolve };
    if (mode === 'pubsub') this.using = 'pubsub';
  }

  get description(): string {
    const prefix = this.prefix === '' ? 'every key' : `prefix "${this.prefix}"`;
    const what =
      this.using === 'tracking'
        ? `Redis tracking (${prefix})`
        : this.using === 'pubsub'
          ? `Redis pub/sub (channel "${this.channel}")`
          : `Redis tracking where the server allows it, else pub/sub (${prefix})`;
    return this.listening || this.closed ? what : `${what}, not connected yet`;
  }

  async start(prefix: string, listener: InvalidationListener): Promise<void> {
    this.prefix = prefix;
    this.channel = CHANNEL_PREFIX + this.commands.keyPrefix + prefix;
    this.listener = listener;
    // Redis forgets CLIENT TRACKING when the store's connection drops: turn it on again when it is back. Before
    // tracking was first turned on, the listening connection's own set-up turns it on.
    this.stopWatchingStore = this.commands.onReady(() => {
      if (this.using === 'tracking') void this.resync();
    });
    void this.connect();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.firstListen.promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, START_WAIT_MS).unref()))]);
    clearTimeout(timer);
  }

  announceChanged(key: string, version: string | undefined): void {
    // With tracking, Redis tells the other instances itself (kept while `auto` still checks it, which may end in pub/sub).
    if (this.closed || (this.using === 'tracking' && this.probe === undefined) || !this.keepsAnnouncement()) return;
    this.pendingKeys.push(key);
    this.pendingVersions.push(version ?? null);
    this.scheduleFlush();
  }

  announceCleared(prefix: string | undefined): void {
    if (this.closed || (this.using === 'tracking' && this.probe === undefined) || !this.keepsAnnouncement()) return;
    this.pendingClears.push(prefix ?? null);
    this.scheduleFlush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    // With the connection down, what is left to announce cannot go out: said at once, not waited for.
    const connected = this.commands.isReady;
    if (connected) this.flush();
    else this.giveUpAnnouncements();
    this.closed = true;
    this.listening = false;
    clearTimeout(this.retryTimer);
    this.stopWatchingStore?.();
    this.subscriber?.close();
    this.subscriber = undefined;
    // Tracking would otherwise stay on, redirected to a connection that is gone, on a client that may be the application's.
    if (this.using === 'tracking' && this.commands.isReady) this.publishing.add(this.stopTracking().catch(() => undefined));
    this.release();
    if (connected) await Promise.allSettled([...this.publishing]);
  }

  /** The announcements gathered and not sent, reported as one failure and dropped. */
  private giveUpAnnouncements(): void {
    const keys = this.pendingKeys.length + this.pendingClears.length;
    this.dropPendingAnnouncements();
    if (keys > 0 && this.using === 'pubsub') this.listener?.failed(new LayeredCacheError(INVALIDATION_PUBLISH_FAILED(keys, INVALIDATION_DOWN_AT_CLOSE)));
  }

  /** Before the first connection, announcements are kept (bounded) in case pub/sub turns out to be used. */
  private keepsAnnouncement(): boolean {
    return this.using === 'pubsub' || this.pendingKeys.length + this.pendingClears.length < MAX_UNDECIDED_ANNOUNCEMENTS;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    if (this.using === undefined && !(await this.decide())) {
      this.retryLater(() => void this.connect());
      return;
    }
    try {
      // Named only for tracking, which finds the connection by its name; pub/sub needs no CLIENT command at all.
      this.subscriber = await this.commands.connectSubscriber(this.using === 'pubsub' ? undefined : this.name, [TRACKING_CHANNEL, this.channel], {
        onMessage: this.onMessage,
        onClosed: this.onSubscriberClosed,
      });
    } catch {
      return; // onClosed has been called and reconnects
    }
    if (this.closed) {
      this.subscriber.close();
      return;
    }
    this.retries.reset();
    await this.resync();
  }

  /**
   * Tracking or pub/sub, decided once Redis answers: whether it lets this connection use `CLIENT TRACKING`.
   * False while Redis cannot be asked yet (or, for `'tracking'`, refuses).
   */
  private async decide(): Promise<boolean> {
    if (this.mode === 'pubsub') {
      this.using = 'pubsub';
      return true;
    }
    try {
      await this.stopTracking();
      return true;
    } catch (error) {
      return this.refusedTracking(error);
    }
  }

  /** Tracking was refused or failed: pub/sub in `'auto'` mode when Redis refused it; false when it is to be tried again. */
  private refusedTracking(driverError: unknown): boolean {
    // An answer from Redis is a refusal; a connection that is not ready, or a Redis too slow to answer, is
    // only a reason to try later.
    const refused = this.commands.isReady && !(driverError instanceof CacheTimeoutError);
    const error = this.commands.redisError(driverError);
    if (refused && this.mode === 'auto') {
      this.using = 'pubsub';
      this.listener?.notice(INVALIDATION_TRACKING_REFUSED(describeCause(error)));
      this.flush();
      return true;
    }
    if (refused) this.listener?.failed(new LayeredCacheError(INVALIDATION_TRACKING_FAILED(describeCause(error)), { cause: error }));
    return false;
  }

  private readonly onSubscriberClosed = (error: Error | undefined): void => {
    const wasListening = this.listening;
    this.subscriber = undefined;
    this.listening = false;
    if (this.closed) return;
    // A lost connection is said once; failing to connect again is said each time (the failure log rate-limits it).
    if (wasListening || error !== undefined) {
      this.listener?.failed(new LayeredCacheError(INVALIDATION_CONNECTION_LOST(describeCause(error ?? 'closed by the server')), { cause: error }));
    }
    this.retryLater(() => void this.connect());
  };

  private retryLater(retry: () => void): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(retry, this.retries.next());
    this.retryTimer.unref();
  }

  /** Sets up what the mode needs on the store's connection, then tells the cache that messages may have been missed. One at a time. */
  private resync(): Promise<void> {
    if (this.syncing !== undefined) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = this.runResync().finally(() => {
      this.syncing = undefined;
      if (this.syncAgain) {
        this.syncAgain = false;
        void this.resync();
      }
    });
    return this.syncing;
  }

  private async runResync(): Promise<void> {
    if (this.subscriber === undefined || this.closed) return;
    if (this.using !== 'pubsub') {
      const tracking = await this.turnTrackingOn();
      if (tracking === 'retry') {
        this.retryLater(() => void this.resync());
        return;
      }
      if (tracking === 'on' && this.mode === 'auto' && !this.echoChecked) await this.avoidTrackingThatEchoes();
    }
    if (this.subscriber === undefined || this.closed) return;
    const first = !this.listening;
    this.listening = true;
    this.listener?.lost();
    if (first) this.firstListen.resolve();
    this.flush();
  }

  /**
   * Some Redis versions (7.0) report to a connection the keys that its own scripts changed, whatever
   * `NOLOOP` says: every versioned write would then drop this instance's own fresh L1 copy. `auto` checks
   * once with a write of its own through a script, and uses pub/sub where it comes back.
   */
  private async avoidTrackingThatEchoes(): Promise<void> {
    this.echoChecked = true;
    const probe = `${this.prefix}\u0000probe:${this.name}`;
    const echoed = new Promise<boolean>((resolve) => {
      this.probe = { key: probe, echoed: () => resolve(true) };
      setTimeout(() => resolve(false), ECHO_WAIT_MS).unref();
    });
    try {
      await this.bounded('EVALSHA', () => this.commands.runScript(PROBE_SCRIPT, [probe], []));
    } catch {
      this.probe = undefined;
      return; // tracking stays on: correct, only dearer where Redis echoes
    }
    const echoes = await echoed;
    // Gone before the cache is used: nothing of the probe is left among the cache's keys.
    await this.bounded('UNLINK', () => this.commands.del([probe])).catch(() => undefined);
    this.probe = undefined;
    if (!echoes || this.closed) {
      this.dropPendingAnnouncements();
      return;
    }
    this.using = 'pubsub';
    this.listener?.notice(INVALIDATION_TRACKING_ECHOES);
    await this.stopTracking().catch(() => undefined);
  }

  /** Turns tracking on; falls back to pub/sub when Redis refuses it in `auto` mode. */
  private async turnTrackingOn(): Promise<'on' | 'pubsub' | 'retry'> {
    try {
      const id = await this.bounded('CLIENT LIST', () => this.commands.subscriberId(this.name));
      if (id === undefined) return 'retry';
      await this.bounded('CLIENT TRACKING', () => this.commands.trackKeys(id, this.prefix));
      this.using = 'tracking';
      if (this.mode !== 'auto' || this.echoChecked) this.dropPendingAnnouncements();
      return 'on';
    } catch (error) {
      return this.refusedTracking(error) ? 'pubsub' : 'retry';
    }
  }

  /** Drops the announcements gathered and not sent: tracking made them needless, or the connection is down at close. */
  private dropPendingAnnouncements(): void {
    this.pendingKeys = [];
    this.pendingVersions = [];
    this.pendingClears = [];
  }

  private readonly onMessage = (channel: string, message: string | readonly string[] | null): void => {
    const listener = this.listener;
    if (listener === undefined || this.closed) return;
    if (channel === TRACKING_CHANNEL) {
      if (message === null) listener.cleared(undefined);
      else {
        const keys = typeof message === 'string' ? [message] : message;
        const probe = this.probe;
        if (probe !== undefined && keys.includes(probe.key)) probe.echoed();
        const ours = keys.filter((key) => key.startsWith(this.prefix) && key !== probe?.key);
        if (ours.length > 0) listener.keysChanged(ours);
      }
      return;
    }
    if (channel !== this.channel || typeof message !== 'string' || message.startsWith(this.ownMessageStart)) return;
    const parsed = parseMessage(message);
    if (parsed === undefined || parsed.from === this.name) return;
    if (parsed.keys !== undefined && parsed.keys.length > 0) listener.keysChanged(parsed.keys);
    if (parsed.cleared !== undefined) listener.cleared(parsed.cleared ?? undefined);
  };

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined || this.using !== 'pubsub') return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, PUBLISH_WINDOW_MS);
  }

  /** Publishes the gathered announcements: one message per clear, and the keys in messages of at most 1 000. */
  private flush(): void {
    if (this.using !== 'pubsub' || this.closed) return;
    const keys = this.pendingKeys;
    const versions = this.pendingVersions;
    const clears = this.pendingClears;
    this.pendingKeys = [];
    this.pendingVersions = [];
    this.pendingClears = [];
    for (const cleared of clears) this.publish({ from: this.name, cleared }, 1);
    for (let start = 0; start < keys.length; start += MAX_KEYS_PER_MESSAGE) {
      const end = start + MAX_KEYS_PER_MESSAGE;
      this.publish({ from: this.name, keys: keys.slice(start, end), versions: versions.slice(start, end) }, Math.min(keys.length, end) - start);
    }
  }

  private publish(message: InvalidationMessage, keys: number): void {
    const text = JSON.stringify(message);
    const sent = this.bounded('PUBLISH', () => this.commands.publish(this.channel, text)).catch((driverError: unknown) => {
      const error = this.commands.redisError(driverError);
      this.listener?.failed(new LayeredCacheError(INVALIDATION_PUBLISH_FAILED(keys, describeCause(error)), { cause: error }));
    });
    this.publishing.add(sent);
    void sent.finally(() => this.publishing.delete(sent));
  }

  private stopTracking(): Promise<void> {
    return this.bounded('CLIENT TRACKING off', () => this.commands.stopTracking());
  }

  /** Runs one command of the bus within the store's command timeout. */
  private bounded<R>(command: string, run: () => Promise<R>): Promise<R> {
    return withTimeout(run, this.commandTimeoutMs, () => {
      const cause = this.commands.connectionError;
      return new CacheTimeoutError(REDIS_COMMAND_TIMED_OUT(command, this.commandTimeoutMs, cause?.message), { cause });
    });
  }
}

/** A message of another instance, or `undefined` when it is not one (another program on the channel). */
function parseMessage(text: string): InvalidationMessage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const message = parsed as Partial<Record<keyof InvalidationMessage, unknown>>;
  if (typeof message.from !== 'string') return undefined;
  const keys = Array.isArray(message.keys) ? message.keys.filter((key): key is string => typeof key === 'string') : undefined;
  const cleared = message.cleared === null || typeof message.cleared === 'string' ? message.cleared : undefined;
  return { from: message.from, keys, cleared };
}
