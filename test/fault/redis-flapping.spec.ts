import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { type CacheEvent, LayeredCache, MemoryStore, OffloadService, RedisStore } from '../../lib';
import { decodeStoredText } from '../../lib/core/envelope';
import { sleep, uniqueNamespace } from '../support/redis';
import { RedisServer } from '../support/redis-server';
import { TcpProxy } from '../support/tcp-proxy';

/*
 * Two instances (two caches, each with a RedisStore of its own) on one Redis of the test's own, while Redis
 * flaps: up about 1 s, down about 1 s, a few times; down is either a SIGKILL (restarted empty on the same
 * port) or a TCP proxy that black-holes the traffic and then heals. Each instance writes steadily to a few
 * hundred shared keys and reads them with getOrSet. Once the flapping stops and the kept writes are
 * replayed, no key may hold a value older than a write acknowledged after that value's own acknowledgement:
 *
 *   Redis holds write V of a key, and some acknowledged set W of the same key was issued after V was
 *   acknowledged (W.issuedAt > V.ackedAt): a violation. Writes that overlapped are concurrent; either may win.
 *
 * Times are Date.now() milliseconds, the clock the versions are made of, compared strictly: W issued in a
 * later millisecond than V was acknowledged has the greater version whatever the instance. After a SIGKILL
 * Redis has lost what it held, so only writes issued after the last kill can be asked of it there.
 */

type Driver = 'node-redis' | 'ioredis';
type Fault = 'killed and restarted' | 'black-holed and healed';

const KEYS = 256;
const WRITE_EVERY_MS = 6; // about 100-160 sets a second per instance on a loaded two-core machine
const READ_EVERY_MS = 8;
const UP_MS = 1_000;
const DOWN_MS = 1_000;
const FLAPS = 3;
const SETTLE_MS = 1_000; // load goes on this long after the last recovery
const SHUTDOWN_MS = 5_000;
const TTL_MS = 300_000; // no entry expires during the test

/** One write of a key: a set, or the value a getOrSet load wrote back. */
interface Write {
  readonly key: string;
  readonly value: string;
  readonly kind: 'set' | 'load';
  readonly instance: string;
  readonly issuedAt: number;
  ackedAt?: number;
  /** The entry's version, read back from the instance's L1 right after the set was issued. */
  version?: string;
  failed?: unknown;
}

interface Instance {
  readonly name: string;
  readonly cache: LayeredCache;
  readonly l1: MemoryStore;
  readonly events: CacheEvent[];
}

const closers: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const close of closers.reverse()) {
    try {
      await close();
    } catch {
      // Cleanup goes on.
    }
  }
});

function storeFor(driver: Driver, url: string): RedisStore {
  return driver === 'ioredis'
    ? new RedisStore({ driver, url, commandTimeoutMs: 100, clientOptions: { maxRetriesPerRequest: 1 } })
    : new RedisStore({ url, commandTimeoutMs: 100 });
}

function instance(name: string, namespace: string, driver: Driver, url: string): Instance {
  const l1 = new MemoryStore();
  const cache = new LayeredCache({
    l1,
    l2: storeFor(driver, url),
    offload: new OffloadService(),
    namespace,
    ttl: TTL_MS,
    invalidation: false,
    resilience: { timeoutMs: 100, breaker: { failureThreshold: 3, cooldownMs: 200 }, replay: { retryDelayMs: 50 } },
  });
  const events: CacheEvent[] = [];
  cache.events$.subscribe((event) => {
    if (event.type === 'replay' || event.type === 'circuit') events.push(event);
  });
  closers.push(() => cache.store.close());
  return { name, cache, l1, events };
}

const describeWrite = (write: Write | undefined) =>
  write === undefined
    ? 'nothing'
    : `${write.value} (${write.kind}, issued ${write.issuedAt}, acked ${write.ackedAt ?? 'never'}${write.version === undefined ? '' : `, version ${write.version}`})`;

describe.each<Driver>(['node-redis', 'ioredis'])('Redis flapping under load, two instances (%s)', (driver) => {
  it.each<Fault>(['killed and restarted', 'black-holed and healed'])(
    'Redis %s every second: no key ends older than its last acknowledged write',
    { timeout: 45_000 },
    async (fault) => {
      const server = await RedisServer.start();
      closers.push(() => server.stop());
      const proxy = fault === 'black-holed and healed' ? await TcpProxy.start(server.port) : undefined;
      if (proxy !== undefined) closers.push(() => proxy.close());
      const url = proxy?.url ?? server.url;
      const namespace = uniqueNamespace('flapping');
      const a = instance('A', namespace, driver, url);
      const b = instance('B', namespace, driver, url);
      const instances = [a, b];
      const keys = Array.from({ length: KEYS }, (_, i) => `k${i}`);

      const writes = new Map<string, Write>(); // by value
      const pending = new Set<Promise<unknown>>();
      const callErrors: { instance: string; op: string; error: unknown }[] = [];
      let running = true;
      /** Acknowledged writes issued after this time are what the final Redis must reflect (after the last kill). */
      let lostBefore = 0;
      const timeline: string[] = [];
      const t0 = Date.now();
      const mark = (what: string) => timeline.push(`${Date.now() - t0} ms: ${what}`);

      const track = (promise: Promise<unknown>) => {
        pending.add(promise);
        void promise.finally(() => pending.delete(promise));
      };

      const writer = async (inst: Instance): Promise<void> => {
        let seq = 0;
        while (running) {
          const key = keys[Math.floor(Math.random() * keys.length)];
          const value = `${inst.name}:set:${++seq}`;
          const write: Write = { key, value, kind: 'set', instance: inst.name, issuedAt: Date.now() };
          writes.set(value, write);
          const set = inst.cache.set(key, value);
          const inL1 = inst.l1.get<string>(inst.cache.fullKey(key));
          if (inL1?.value === value) write.version = inL1.version;
          track(
            set.then(
              () => (write.ackedAt = Date.now()),
              (error: unknown) => {
                write.failed = error;
                callErrors.push({ instance: inst.name, op: 'set', error });
              },
            ),
          );
          await sleep(WRITE_EVERY_MS);
        }
      };

      const reader = async (inst: Instance): Promise<void> => {
        let seq = 0;
        while (running) {
          const key = keys[Math.floor(Math.random() * keys.length)];
          const issuedAt = Date.now();
          let loaded: Write | undefined;
          const factory = async (): Promise<string> => {
            loaded = { key, value: `${inst.name}:load:${++seq}`, kind: 'load', instance: inst.name, issuedAt };
            writes.set(loaded.value, loaded);
            await sleep(Math.random() * 5); // a database read
            return loaded.value;
          };
          try {
            await inst.cache.getOrSet(key, factory);
          } catch (error) {
            callErrors.push({ instance: inst.name, op: 'getOrSet', error });
          }
          // The loaded value has been written (or kept for replay, or dropped as stale) when getOrSet resolves.
          if (loaded !== undefined) loaded.ackedAt = Date.now();
          await sleep(READ_EVERY_MS);
        }
      };

      const down = async (): Promise<void> => {
        if (proxy !== undefined) proxy.blackhole();
        else {
          await server.kill('SIGKILL');
          lostBefore = Date.now();
        }
      };
      const up = async (): Promise<void> => {
        if (proxy !== undefined) proxy.heal();
        else await server.restart();
      };

      const chaos = async (): Promise<void> => {
        await sleep(UP_MS);
        for (let flap = 1; flap <= FLAPS; flap++) {
          await down();
          mark(`down #${flap}`);
          await sleep(DOWN_MS);
          await up();
          mark(`up #${flap}`);
          await sleep(flap === FLAPS ? SETTLE_MS : UP_MS);
        }
        running = false;
        mark('load stopped');
      };

      await Promise.all([chaos(), ...instances.flatMap((inst) => [writer(inst), reader(inst)])]);
      while (pending.size > 0) await Promise.allSettled([...pending]);
      mark('every call settled');

      // Replays what the instances still keep, then stops keeping writes.
      const shutdowns = await Promise.all(instances.map((inst) => inst.cache.store.shutdown(SHUTDOWN_MS)));
      mark(`shut down: ${JSON.stringify(shutdowns)}`);
      // Commands Redis was sent but had not answered (held back by the proxy, queued offline) land meanwhile.
      await sleep(300);

      const raw = createClient({ url: server.url });
      raw.on('error', () => undefined);
      await raw.connect();
      closers.push(async () => raw.destroy());

      // The acknowledged sets of each key that the final Redis must reflect.
      const acked = new Map<string, Write[]>();
      for (const write of writes.values()) {
        if (write.kind !== 'set' || write.ackedAt === undefined || write.issuedAt <= lostBefore) continue;
        const list = acked.get(write.key) ?? [];
        list.push(write);
        acked.set(write.key, list);
      }

      const stored = await raw.mGet(keys.map((key) => a.cache.fullKey(key)));
      const violations: string[] = [];
      let heldBySet = 0;
      let heldByLoad = 0;
      keys.forEach((key, i) => {
        const text = stored[i];
        const witnesses = acked.get(key) ?? [];
        const newestAcked = witnesses.reduce<Write | undefined>((newest, w) => (newest === undefined || w.issuedAt > newest.issuedAt ? w : newest), undefined);
        const entry = text === null ? undefined : decodeStoredText(text);
        if (entry === undefined) {
          if (newestAcked !== undefined) violations.push(`${key}: missing in Redis (${text === null ? 'no key' : 'a delete mark'}); last acknowledged set ${describeWrite(newestAcked)}`);
          return;
        }
        const held = writes.get(entry.value as string);
        if (held === undefined || held.key !== key) {
          violations.push(`${key}: Redis holds ${JSON.stringify(entry.value)} (version ${entry.version}), which no write of this key made`);
          return;
        }
        if (held.kind === 'set') heldBySet++;
        else heldByLoad++;
        const heldAckedAt = held.ackedAt ?? Number.POSITIVE_INFINITY;
        const later = witnesses.filter((w) => w.issuedAt > heldAckedAt);
        if (later.length > 0) {
          const newest = later.reduce((x, y) => (y.issuedAt > x.issuedAt ? y : x));
          violations.push(
            `${key}: Redis holds ${describeWrite(held)} [stored version ${entry.version}], older than ${later.length} acknowledged set(s) issued after it was acknowledged, the newest ${describeWrite(newest)}`,
          );
        }
      });

      const sets = [...writes.values()].filter((w) => w.kind === 'set');
      const loads = [...writes.values()].filter((w) => w.kind === 'load');
      const durationS = (Date.now() - t0) / 1000;
      const summary = {
        driver,
        fault,
        seconds: durationS,
        sets: sets.length,
        setsPerSecondPerInstance: Math.round(sets.length / 2 / ((FLAPS * (UP_MS + DOWN_MS) + SETTLE_MS) / 1000)),
        loads: loads.length,
        keysChecked: KEYS,
        keysWithAckedSetsChecked: acked.size,
        heldBySet,
        heldByLoad,
        replay: instances.map((inst) => inst.cache.stats().resilience?.replay),
        breakerOpened: instances.map((inst) => inst.cache.stats().resilience?.breaker?.opened),
        kept: instances.map((inst) => inst.events.filter((e) => e.type === 'replay' && e.outcome === 'kept').length),
        timeline,
      };
      // Shown only when an expectation fails: what ran, and the outage timeline.
      const context = JSON.stringify(summary, null, 1);

      // The scenario really happened: load throughout, outages the breaker saw, writes kept and replayed.
      expect(callErrors.map(({ instance: name, op, error }) => `${name} ${op}: ${String(error)}`), context).toEqual([]);
      expect(sets.length, context).toBeGreaterThan(1_000);
      for (const inst of instances) {
        const stats = inst.cache.stats().resilience;
        expect(stats?.breaker?.opened, `${inst.name}'s breaker opened: ${context}`).toBeGreaterThanOrEqual(FLAPS);
        expect(stats?.replay?.replayed, `${inst.name} replayed kept writes: ${context}`).toBeGreaterThan(0);
        expect(stats?.replay?.pending, `${inst.name} has nothing left to replay: ${context}`).toBe(0);
        expect(stats?.replay?.dropped, context).toBe(0);
        expect(stats?.replay?.abandoned, context).toBe(0);
      }
      expect(shutdowns.map((s) => s.abandoned), context).toEqual([0, 0]);
      expect(acked.size, context).toBeGreaterThan(KEYS / 2);

      expect(violations, `${violations.length} key(s) older than an acknowledged write: ${context}`).toEqual([]);
    },
  );
});
