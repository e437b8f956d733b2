import fc from 'fast-check';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CacheErrorEvent, CacheSerializationError, DEFAULT_MAX_VALUE_BYTES, LayeredCache, MemoryStore, OffloadService, RedisStore } from '../../lib';
import { REDIS_URL, rawRedisForFile, sleep, uniqueNamespace } from '../support/redis';

/*
 * Whatever bytes another program leaves under a key of the cache in Redis, every get and getOrSet of that
 * key resolves (a miss, or the factory's value), reports what is wrong with the bytes as an error event,
 * and never blocks the event loop for long: random bytes, envelopes valid and invalid, JSON nested 10^5
 * and 10^6 levels deep, and texts beyond maxValueBytes (8 MiB, the default).
 */

/**
 * Longest the event loop may be blocked by one case's get and getOrSet. Nothing the cache does with a bad
 * entry is proportional to it beyond a scan that stops at the first level too deep and a length check:
 * the longest step is node-redis assembling the largest reply (20 MB, about 25 ms on a 2-core machine)
 * before the cache sees it. Ten times that leaves room for a loaded CI machine and a garbage collection;
 * parsing one of the 10^6-level entries took 170 to 260 ms on its own, once per read.
 */
const MAX_BLOCK_MS = 250;

/** What a case puts under its key, and whether the cache may serve it as an entry. */
interface HostileCase {
  readonly label: string;
  readonly bytes: Buffer;
  /** The value a valid entry holds, when the case is one. */
  readonly valid?: { readonly value: unknown };
  readonly [fc.toStringMethod]: () => string;
}

const now = Date.now();
const header = (version = '17000000000000000482913', expiresAt: number | '' = now + 600_000): string => `2|${version}|${now}|${expiresAt}|0|`;
/** A case, shown in a failure report by its label and size rather than by its megabytes. */
const hostileCase = (label: string, bytes: Buffer, valid?: { value: unknown }): HostileCase => ({
  label,
  bytes,
  valid,
  [fc.toStringMethod]: () => `${label} (${bytes.length} bytes${bytes.length <= 200 ? `: ${JSON.stringify(bytes.toString('latin1'))}` : ''})`,
});
const text = (label: string, value: string, valid?: { value: unknown }): HostileCase => hostileCase(label, Buffer.from(value), valid);

const arrays = (levels: number): string => `${'['.repeat(levels)}1${']'.repeat(levels)}`;
const objects = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

/** Entries nested far deeper than the serializer reads, tagged (`~`, walked after parsing) or not. */
const deepCases: fc.Arbitrary<HostileCase> = fc
  .tuple(fc.constantFrom(100_000, 1_000_000), fc.constantFrom('arrays', 'objects'), fc.boolean())
  .map(([levels, kind, tagged]) => text(`${levels} levels of ${kind}${tagged ? ', tagged' : ''}`, header() + (tagged ? '~' : '') + (kind === 'arrays' ? arrays(levels) : objects(levels))));

/** Valid entries of texts longer than the limit; the text is not looked at beyond its length. */
const hugeCases: fc.Arbitrary<HostileCase> = fc
  .constantFrom(DEFAULT_MAX_VALUE_BYTES + 1, 12_000_000, 20_000_000)
  .map((length) => text(`${length} bytes`, `${header()}"${'x'.repeat(length - header().length - 2)}"`));

const randomBytes: fc.Arbitrary<HostileCase> = fc.uint8Array({ maxLength: 3_000 }).map((bytes) => hostileCase('random bytes', Buffer.from(bytes)));

const validEnvelopes: fc.Arbitrary<HostileCase> = fc
  .tuple(fc.jsonValue({ maxDepth: 6 }), fc.stringMatching(/^[0-9]{0,32}$/))
  .map(([value, version]) => text('a valid envelope', header(version) + JSON.stringify(value), { value: JSON.parse(JSON.stringify(value)) }));

/** Envelopes broken in one place: header fields, flags, tags, payload, format version. */
const invalidEnvelopes: fc.Arbitrary<HostileCase> = fc.oneof(
  fc.string().map((payload) => text('a payload that is not JSON', header() + '{' + payload)),
  fc.string().map((payload) => text('a tagged payload that is not JSON', `${header()}~${payload}{`)),
  fc.constantFrom('NaN', 'undefined', "{'a':1}", '[1,]', '{"a":1', '"unterminated', '1e99999x').map((payload) => text('invalid JSON', header() + payload)),
  fc.stringMatching(/^[0-9a-z|~]{0,40}$/).map((garbage) => text('a broken header', `2|${garbage}|{"a":1}`)),
  fc.integer({ min: 2, max: 1_000 }).map((flags) => text('unknown flags', `2|1|${now}||${flags}|1`)),
  fc.nat(50).map((length) => text('cut-off tags', `2|1|${now}||1|${length + 10}|{"t":"1"}`)),
  fc.integer({ min: 3, max: 99_999 }).map((version) => text('an unknown format version', `${version}|${now}||0|1`)),
  fc.string({ maxLength: 50 }).map((prefix) => text('text that is no envelope', `x${prefix}`)),
);

const hostile: fc.Arbitrary<HostileCase> = fc.oneof(
  { arbitrary: randomBytes, weight: 4 },
  { arbitrary: validEnvelopes, weight: 3 },
  { arbitrary: invalidEnvelopes, weight: 4 },
  { arbitrary: deepCases, weight: 1 },
  { arbitrary: hugeCases, weight: 1 },
);

describe('hostile bytes in Redis under the keys of a cache', () => {
  const shared = rawRedisForFile();
  const namespace = uniqueNamespace('hostile');
  shared.namespaces.push(namespace);
  let cache: LayeredCache;
  const errors: CacheErrorEvent[] = [];

  beforeAll(() => {
    cache = new LayeredCache({
      l1: new MemoryStore(),
      // Time limits that a loaded machine cannot turn into timeouts: this is about bytes, not latency.
      l2: new RedisStore({ url: REDIS_URL, commandTimeoutMs: 5_000 }),
      offload: new OffloadService(),
      namespace,
      invalidation: false,
      resilience: { timeoutMs: 5_000, breaker: false },
    });
    cache.events$.subscribe((event) => {
      if (event.type === 'error') errors.push(event);
    });
  });
  afterAll(() => cache.store.close());

  let next = 0;

  async function check(hostileCase: HostileCase): Promise<void> {
    const key = `k${next++}`;
    await shared.client().set(cache.fullKey(key), hostileCase.bytes);
    errors.length = 0;
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const read = await cache.get(key);
    const loaded = await cache.getOrSet(key, async () => 'fresh');
    // The monitor's timer records a block when it fires late, after it: give it a turn to fire.
    await sleep(20);
    delay.disable();
    const blockedMs = delay.max / 1e6;
    const context = `${hostileCase.label} (${hostileCase.bytes.length} bytes): blocked ${blockedMs.toFixed(0)} ms, errors ${errors.map((event) => event.error.message.slice(0, 80)).join(' | ')}`;
    expect(blockedMs, context).toBeLessThan(MAX_BLOCK_MS);
    if (hostileCase.valid !== undefined) {
      expect(read, context).toEqual(hostileCase.valid.value);
      expect(loaded, context).toEqual(hostileCase.valid.value);
      expect(errors, context).toEqual([]);
      return;
    }
    // Random bytes may happen to be valid text of a value; anything else is a miss, reported.
    if (read === undefined) {
      expect(loaded, context).toBe('fresh');
      expect(errors.length, context).toBeGreaterThan(0);
      for (const event of errors) {
        expect(event, context).toMatchObject({ layer: 'l2', operation: 'serialize', key: cache.fullKey(key) });
        expect(event.error, context).toBeInstanceOf(CacheSerializationError);
      }
    } else {
      expect(hostileCase.label, context).toBe('random bytes');
    }
  }

  it('resolves every get and getOrSet, reports every bad entry, and never blocks the event loop long', async () => {
    await fc.assert(fc.asyncProperty(hostile, check), {
      numRuns: 80,
      // Every deep and huge kind at least once, whatever the random run picks.
      examples: [
        ...[100_000, 1_000_000].flatMap((levels) => ['arrays', 'objects'].flatMap((kind) => [false, true].map((tagged) => [text(`${levels} levels of ${kind}${tagged ? ', tagged' : ''}`, header() + (tagged ? '~' : '') + (kind === 'arrays' ? arrays(levels) : objects(levels)))]))),
        [text('20 MB', `${header()}"${'x'.repeat(20_000_000)}"`)],
        [text('just over the limit', `${header()}"${'x'.repeat(DEFAULT_MAX_VALUE_BYTES - header().length - 1)}"`)],
      ] as [HostileCase][],
    });
  }, 120_000);
});
