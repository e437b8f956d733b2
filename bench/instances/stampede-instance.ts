import { LayeredCache, MemoryStore, OffloadService, RedisStore } from '../../lib';
import { connectNodeRedis } from '../environment/redis';
import { sleep } from '../fixtures';
import { INSTANCE_FACTORY_MS, type StampedeReply, type StampedeRequest } from './stampede-protocol';

/**
 * One instance of an application in a process of its own (`node stampede-instance.js <namespace>`): a cache
 * on the shared Redis that answers the scenario's requests over IPC, with a factory that takes 50 ms.
 */
async function main(): Promise<void> {
  const namespace = process.argv[2];
  if (namespace === undefined) throw new Error('usage: stampede-instance.js <namespace>');
  const client = await connectNodeRedis();
  const cache = new LayeredCache({ l1: new MemoryStore(), l2: new RedisStore({ client }), offload: new OffloadService(), namespace });
  await cache.invalidationStarted;
  process.on('message', (request: StampedeRequest) => {
    let factoryCalls = 0;
    const factory = async (): Promise<string> => {
      factoryCalls++;
      await sleep(INSTANCE_FACTORY_MS);
      return `value of ${request.key}`;
    };
    void cache.getOrSet(request.key, factory, { singleFlight: request.singleFlight }).then((value) => process.send?.({ value, factoryCalls } satisfies StampedeReply));
  });
  // The scenario is over: close, within a second at most.
  process.on('disconnect', () => {
    setTimeout(() => process.exit(0), 1_000).unref();
    void cache.store.close().finally(() => {
      client.destroy();
      process.exit(0);
    });
  });
  process.send?.('ready');
}

void main();
