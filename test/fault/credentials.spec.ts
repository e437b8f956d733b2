import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import IoRedisV6 from 'ioredis6';
import { createClient } from 'redis';
import { createClient as createClientV5 } from 'redis5';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CacheEvent, LayeredCache, LayeredCacheModule, type LayeredCacheModuleOptions, RedisStore } from '../../lib';
import { CapturingLogger } from '../support/capturing-logger';
import { sleep, uniqueNamespace } from '../support/redis';
import { RedisServer } from '../support/redis-server';

/*
 * A cache configured with the wrong password must say that Redis refused it, and must never repeat the
 * password (or the username) it was given: not in a log line, an event, an error a caller gets (with its
 * causes and every property), nor in stats(). Each driver and major, with the password in the URL the
 * store connects with and in the options of a client the application created. An own redis-server that
 * requires a password: the shared one has none.
 */

const RIGHT_PASSWORD = `right-pass-${randomUUID()}`;
const WRONG_PASSWORD = `hunter2-wrong-pass-${randomUUID().slice(0, 8)}`;
const USERNAME = `cache-user-${randomUUID().slice(0, 8)}`;
const SECRETS = [WRONG_PASSWORD, RIGHT_PASSWORD, USERNAME];
const SECRET_FORMS = SECRETS.flatMap((secret) => [secret, encodeURIComponent(secret)]);

let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start(undefined, ['--requirepass', RIGHT_PASSWORD]);
});
afterAll(async () => {
  await server?.stop();
});

/** A store over a client the application created, and what closing that client takes. */
interface OwnClient {
  readonly store: RedisStore;
  close(): void;
}

type L2Source = { readonly label: string; l2(): LayeredCacheModuleOptions['l2'] } | { readonly label: string; client(): OwnClient };

const wrongUrl = (): string => `redis://${USERNAME}:${WRONG_PASSWORD}@127.0.0.1:${server.port}`;
const noop = (): void => undefined;

const sources: L2Source[] = [
  { label: 'node-redis v6 from a url', l2: () => ({ url: wrongUrl(), commandTimeoutMs: 1_000 }) },
  { label: 'ioredis v5 from a url', l2: () => ({ url: wrongUrl(), driver: 'ioredis', commandTimeoutMs: 1_000, clientOptions: { maxRetriesPerRequest: 1 } }) },
  {
    label: 'a node-redis v6 client',
    client: () => {
      const client = createClient({ socket: { host: '127.0.0.1', port: server.port }, username: USERNAME, password: WRONG_PASSWORD });
      client.on('error', noop);
      return { store: new RedisStore({ client, commandTimeoutMs: 1_000 }), close: () => client.isOpen && client.destroy() };
    },
  },
  {
    label: 'a node-redis v5 client',
    client: () => {
      const client = createClientV5({ url: wrongUrl() });
      client.on('error', noop);
      return { store: new RedisStore({ client, commandTimeoutMs: 1_000 }), close: () => client.isOpen && client.destroy() };
    },
  },
  {
    label: 'an ioredis v5 client',
    client: () => {
      const client = new Redis({ host: '127.0.0.1', port: server.port, username: USERNAME, password: WRONG_PASSWORD, maxRetriesPerRequest: 1 });
      client.on('error', noop);
      return { store: new RedisStore({ client, commandTimeoutMs: 1_000 }), close: () => client.disconnect() };
    },
  },
  {
    label: 'an ioredis v6 client',
    client: () => {
      const client = new IoRedisV6(wrongUrl(), { maxRetriesPerRequest: 1 });
      client.on('error', noop);
      return { store: new RedisStore({ client, commandTimeoutMs: 1_000 }), close: () => client.disconnect() };
    },
  },
];

/** JSON of anything, with each Error spelled out: its name, message, stack, cause and every own property. */
function json(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'bigint') return `${item}n`;
    if (typeof item !== 'object' || item === null) return item;
    if (seen.has(item)) return '[seen]';
    seen.add(item);
    if (!(item instanceof Error)) return item;
    const spelled: Record<string, unknown> = { name: item.name, message: item.message, stack: item.stack, cause: item.cause };
    for (const name of Object.getOwnPropertyNames(item)) spelled[name] = (item as unknown as Record<string, unknown>)[name];
    return spelled;
  });
}

/** Every text reachable from `value`: strings among its own properties (enumerable or not, symbols too) and its causes, at any depth. */
function textsWithin(value: unknown, seen = new Set<unknown>()): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' || value === null || seen.has(value)) return [];
  seen.add(value);
  const texts: string[] = [];
  for (const key of Reflect.ownKeys(value)) {
    let item: unknown;
    try {
      item = (value as Record<PropertyKey, unknown>)[key];
    } catch {
      continue;
    }
    texts.push(...textsWithin(item, seen));
  }
  if (value instanceof Error) texts.push(...textsWithin(value.cause, seen));
  return texts;
}

/** Everything a user could read of an error a call rejected with. */
function describeCallerError(error: unknown): string {
  return [json(error), inspect(error, { depth: Infinity }), inspect(error, { depth: Infinity, showHidden: true }), ...textsWithin(error)].join('\n');
}

/** The secrets found in `text`. */
const leaked = (text: string): string[] => SECRET_FORMS.filter((secret) => text.includes(secret));

describe.each(sources)('credentials with $label', (source) => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('appear in no log line, event, caller error or stats, while the errors say Redis refused them', { timeout: 20_000 }, async () => {
    let l2: LayeredCacheModuleOptions['l2'];
    if ('client' in source) {
      // The application leaves a store it was handed, and the client under it, to their creator.
      const own = source.client();
      cleanups.push(() => own.close(), () => own.store.close());
      l2 = own.store;
    } else {
      l2 = source.l2();
    }
    const logger = new CapturingLogger();
    const app: TestingModule = await Test.createTestingModule({
      imports: [
        LayeredCacheModule.forRoot({
          isGlobal: true,
          namespace: uniqueNamespace('credentials'),
          l2,
          // Every call reaches Redis and waits for its answer, rather than for a breaker or a time limit.
          resilience: { timeoutMs: 1_500, breaker: false },
          // Pub/sub opens its subscriber connection whatever Redis answers, so its failures are reported too.
          invalidation: 'pubsub',
          shutdownTimeoutMs: 500,
        }),
      ],
    })
      .setLogger(logger)
      .compile();
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await app.close();
    };
    cleanups.push(close);
    const cache = app.get(LayeredCache);
    const events: CacheEvent[] = [];
    cache.events$.subscribe((event) => events.push(event));
    await app.init();

    const callerErrors: unknown[] = [];
    const call = async (run: () => Promise<unknown>): Promise<void> => {
      await run().catch((error: unknown) => callerErrors.push(error));
    };
    await call(() => cache.get('a'));
    await call(() => cache.set('b', { id: 1 }));
    await call(() => cache.getOrSet('c', () => 'loaded'));
    await call(() => cache.delete('b'));
    await call(() => cache.get('d', { timeoutMs: 1_000 }));
    // The invalidation connection retries in the background and reports each failure.
    await sleep(500);
    const stats = cache.stats();
    await close();

    const logText = logger.lines.map((line) => `${line.level} ${line.context ?? ''} ${line.message}`).join('\n');
    const eventText = events.map((event) => `${json(event)}\n${inspect(event, { depth: Infinity })}\n${inspect(event, { depth: Infinity, showHidden: true })}`).join('\n');
    const errorText = callerErrors.map(describeCallerError).join('\n');
    const statsText = `${json(stats)}\n${inspect(stats, { depth: Infinity })}`;

    expect(events.filter((event) => event.type === 'error' && event.layer === 'l2').length).toBeGreaterThan(0);
    expect(events.filter((event) => event.type === 'error' && event.operation === 'invalidate').length).toBeGreaterThan(0);
    expect({ logs: leaked(logText), events: leaked(eventText), callerErrors: leaked(errorText), stats: leaked(statsText) }).toEqual({
      logs: [],
      events: [],
      callerErrors: [],
      stats: [],
    });
    // Still says what was wrong: Redis refused the credentials.
    expect(`${logText}\n${eventText}\n${errorText}`).toMatch(/WRONGPASS|NOAUTH|invalid password/);
  });
});
