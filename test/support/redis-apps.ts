import type { TestingModule } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { connectRawRedis, deleteKeys, type RawRedis } from './redis';

/** A raw Redis connection for the file, and the apps and namespaces each test leaves behind. */
export interface RedisAppTracker {
  /** The raw client, connected before the first test. */
  readonly redis: RawRedis;
  /** Closes `app` and deletes the keys under `namespace` after the test. */
  track(app: TestingModule | undefined, namespace: string | undefined): void;
}

/** Registers the hooks: connect once, close tracked apps and delete tracked namespaces after each test. */
export function trackAppsOnRedis(): RedisAppTracker {
  let redis: RawRedis | undefined;
  const apps: TestingModule[] = [];
  const namespaces: string[] = [];
  beforeAll(async () => {
    redis = await connectRawRedis();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(namespaces.splice(0).map((ns) => deleteKeys(redis as RawRedis, ns)));
  });
  afterAll(async () => {
    await redis?.quit();
  });
  return {
    get redis(): RawRedis {
      if (redis === undefined) throw new Error('The raw Redis client connects in beforeAll; use it inside a test.');
      return redis;
    },
    track(app, namespace) {
      if (app !== undefined) apps.push(app);
      if (namespace !== undefined) namespaces.push(namespace);
    },
  };
}
