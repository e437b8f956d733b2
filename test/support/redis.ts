import { afterAll, beforeAll } from 'vitest';
import { decodeStoredText } from '../../lib/core/envelope';
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';

/** The Redis the tests use; CI starts one at this address. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A namespace no other test or run uses, so tests never see each other's keys. */
export function uniqueNamespace(label: string): string {
  return `test-${label}-${randomUUID().slice(0, 8)}`;
}

const createRawClient = (url: string) => createClient({ url });
export type RawRedis = ReturnType<typeof createRawClient>;

/** A plain node-redis client to look at what the cache stored, independently of the code under test. */
export async function connectRawRedis(): Promise<RawRedis> {
  const client = createRawClient(REDIS_URL);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(client: RawRedis, prefix: string): Promise<void> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch);
  if (keys.length > 0) await client.del(keys);
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last result. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 3_000, everyMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

/** True when `text`, read raw from Redis, is an entry of the cache (not absent, not a delete mark). */
export function holdsEntry(text: string | null): boolean {
  return text !== null && decodeStoredText(text) !== undefined;
}

/**
 * A raw client of the shared Redis for the tests of a file, connected before them, and the namespaces they
 * used, whose keys are deleted after them.
 */
export function rawRedisForFile(): { readonly client: () => RawRedis; readonly namespaces: string[] } {
  let raw: RawRedis | undefined;
  const namespaces: string[] = [];
  beforeAll(async () => {
    raw = await connectRawRedis();
  });
  afterAll(async () => {
    for (const namespace of namespaces) await deleteKeys(raw as RawRedis, `${namespace}:`);
    raw?.destroy();
  });
  return {
    client: () => {
      if (raw === undefined) throw new Error('The raw Redis client connects in beforeAll; use it inside a test.');
      return raw;
    },
    namespaces,
  };
}
