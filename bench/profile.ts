import 'reflect-metadata';
import { RaceWritePolicy } from '../lib';
import { connectNodeRedis, createRunPrefix, deleteKeysWithPrefix } from './environment/redis';
import { SAMPLE_ITEM, nextTurn } from './fixtures';
import { createOurCache, type OurCache } from './subjects/our-cache';

/** Hot loops of this library's paths, to run under `node --cpu-prof`. */
const LOOPS: Record<string, (ours: OurCache, deadline: number) => Promise<number>> = {
  async 'decorated-l1-hit'(ours, deadline) {
    await ours.cache.set(`item:${SAMPLE_ITEM.id}`, SAMPLE_ITEM);
    let calls = 0;
    while (performance.now() < deadline) {
      for (let i = 0; i < 10_000; i++) await ours.items.find(SAMPLE_ITEM.id);
      calls += 10_000;
    }
    return calls;
  },
  async 'l2-hit'(ours, deadline) {
    const key = `item:${SAMPLE_ITEM.id}`;
    await ours.cache.set(key, SAMPLE_ITEM);
    // Other entries stay in L1, as in the benchmark: evicting an lru-cache's only entry clears all its arrays.
    for (let i = 0; i < 100; i++) await ours.cache.set(`resident:${i}`, SAMPLE_ITEM);
    const fullKey = ours.cache.fullKey(key);
    let calls = 0;
    while (performance.now() < deadline) {
      await nextTurn();
      await ours.l1.delete(fullKey);
      await ours.cache.get(key);
      calls++;
    }
    return calls;
  },
  async 'race-write'(ours, deadline) {
    const policy = new RaceWritePolicy();
    let calls = 0;
    while (performance.now() < deadline) {
      await nextTurn();
      await ours.cache.set('race', SAMPLE_ITEM, { writePolicy: policy });
      calls++;
    }
    return calls;
  },
  async 'blocking-write'(ours, deadline) {
    let calls = 0;
    while (performance.now() < deadline) {
      await nextTurn();
      await ours.cache.set('blocking', SAMPLE_ITEM);
      calls++;
    }
    return calls;
  },
  async 'background-writes'(ours, deadline) {
    const keys = Array.from({ length: 256 }, (_, i) => `background:${i}`);
    let calls = 0;
    while (performance.now() < deadline) {
      for (const key of keys) await ours.cache.put(key, SAMPLE_ITEM, { background: true });
      await ours.drainBackground();
      calls += keys.length;
    }
    return calls;
  },
  'concurrent-l2-hit': (ours, deadline) => concurrentL2Hits(ours, deadline, (key) => ours.cache.get(`many:${key}`)),
  'concurrent-cacheable-hit': (ours, deadline) => concurrentL2Hits(ours, deadline, (key) => ours.items.find(key)),
};

/** 2 048 L2 hits per round, 64 in flight, after L1 was emptied; `read` reads the key of one id. */
async function concurrentL2Hits(ours: OurCache, deadline: number, read: (id: number) => Promise<unknown>): Promise<number> {
  const ids = Array.from({ length: 2048 }, (_, i) => i);
  for (const id of ids) {
    await ours.cache.set(`many:${id}`, SAMPLE_ITEM);
    await ours.items.find(id);
  }
  let calls = 0;
  while (performance.now() < deadline) {
    await nextTurn();
    await ours.l1.clear();
    await Promise.all(
      Array.from({ length: 64 }, async (_, worker) => {
        for (let i = worker; i < ids.length; i += 64) await read(ids[i]);
      }),
    );
    calls += ids.length;
  }
  return calls;
}

async function main(): Promise<void> {
  const [name = '', seconds = '5'] = process.argv.slice(2);
  const loop = LOOPS[name];
  if (loop === undefined) throw new Error(`usage: npm run bench:profile -- <${Object.keys(LOOPS).join('|')}> [seconds]`);
  const prefix = createRunPrefix();
  const ours = await createOurCache(`${prefix}layered`);
  try {
    const started = performance.now();
    const calls = await loop(ours, started + Number(seconds) * 1000);
    const elapsed = performance.now() - started;
    console.log(`${name}: ${calls} calls, ${((elapsed * 1e6) / calls).toFixed(0)} ns per call`);
  } finally {
    await ours.close();
    const client = await connectNodeRedis();
    await deleteKeysWithPrefix(client, prefix);
    client.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
