import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer, freePort } from '../support/redis-server';

/**
 * The sample app run twice, as separate Node processes behind what would be a load balancer, on one Redis
 * of the test's own: a change made through one instance is what the other serves next (DESIGN section 9).
 */

const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, '.build', 'sample-app', 'sample-app', 'src', 'main.js');

/** One running instance of the sample app. */
class SampleInstance {
  readonly output: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(redisUrl: string): Promise<SampleInstance> {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env: { ...process.env, PORT: String(port), REDIS_URL: redisUrl }, stdio: ['ignore', 'pipe', 'pipe'] });
    const instance = new SampleInstance(child, `http://127.0.0.1:${port}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`The sample app did not start within 20 s:\n${instance.output.join('')}`)), 20_000);
      const collect = (chunk: Buffer): void => {
        instance.output.push(chunk.toString('utf8'));
        if (instance.output.join('').includes('Listening on')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`The sample app exited with ${code}:\n${instance.output.join('')}`));
      });
    });
    return instance;
  }

  async get(path: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(this.url + path);
    return { status: response.status, body: response.status === 200 ? await response.json() : undefined };
  }

  async send(method: 'PATCH' | 'DELETE' | 'POST', path: string, body?: unknown): Promise<number> {
    const response = await fetch(this.url + path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    await response.arrayBuffer();
    return response.status;
  }

  /** Stops the process: SIGTERM lets it shut down, SIGKILL is a crash. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill(signal);
    await exited;
  }
}

/** Polls `path` on `instance` until `accept` holds; returns how long it took, or fails after 3 s. */
async function timeUntil(instance: SampleInstance, path: string, accept: (reply: { status: number; body: unknown }) => boolean): Promise<number> {
  const started = performance.now();
  for (;;) {
    const reply = await instance.get(path);
    if (accept(reply)) return performance.now() - started;
    if (performance.now() - started > 3_000) throw new Error(`${path} still answered ${JSON.stringify(reply)} after 3 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('the sample app run three times on one Redis', () => {
  let redis: RedisServer;
  let raw: ReturnType<typeof createClient>;
  let a: SampleInstance;
  let b: SampleInstance;
  let c: SampleInstance;
  /** Rows the instances read from their shared database, counted by it. */
  const databaseReads = async (): Promise<number> => Number((await raw.get('sample-app-database:products:reads')) ?? 0);

  beforeAll(async () => {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'sample-app', 'tsconfig.app.json')], { cwd: ROOT, stdio: 'pipe' });
    redis = await RedisServer.start();
    raw = createClient({ url: redis.url });
    await raw.connect();
    [a, b, c] = await Promise.all([SampleInstance.start(redis.url), SampleInstance.start(redis.url), SampleInstance.start(redis.url)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
    raw?.destroy();
    await redis?.stop();
  });

  it('says at startup how L1 invalidation runs: Redis tracking, or pub/sub where tracking would echo its own writes', () => {
    for (const instance of [a, b, c]) expect(instance.output.join('')).toMatch(/L1 invalidation: Redis (tracking \(prefix "sample-app:"\)|pub\/sub \(channel "nestjs-layered-cache:invalidate:sample-app:"\))/);
  });

  it('serves a PATCH made through one instance from the other at once, not after the TTL', async () => {
    expect((await a.get('/products/3')).body).toMatchObject({ price: 30 });
    expect((await b.get('/products/3')).body).toMatchObject({ price: 30 });
    expect((await b.get('/products/3')).body).toMatchObject({ price: 30 });
    expect(await a.send('PATCH', '/products/3', { price: 5 })).toBe(200);
    const elapsed = await timeUntil(b, '/products/3', (reply) => (reply.body as { price?: number } | undefined)?.price === 5);
    expect(elapsed).toBeLessThan(1_000);
    expect((await a.get('/products/3')).body).toMatchObject({ price: 5 });
  });

  it('answers 404 on the other instance once a product was deleted through one', async () => {
    expect((await a.get('/products/4')).status).toBe(200);
    expect((await b.get('/products/4')).status).toBe(200);
    expect(await a.send('DELETE', '/products/4')).toBe(204);
    const elapsed = await timeUntil(b, '/products/4', (reply) => reply.status === 404);
    expect(elapsed).toBeLessThan(1_000);
  });

  it('reads the database once when three instances miss one product at the same time', async () => {
    const before = await databaseReads();
    const replies = await Promise.all([a, b, c].map((instance) => instance.get('/products/20')));
    expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200]);
    expect(new Set(replies.map((reply) => JSON.stringify(reply.body))).size).toBe(1);
    expect((await databaseReads()) - before).toBe(1);
  });

  it('takes over from an instance killed while it loads, once its lease expires', async () => {
    const lease = 'sample-app:product:21\u0000lease';
    const before = await databaseReads();
    void a.get('/products/21').catch(() => undefined);
    const deadline = Date.now() + 2_000;
    while ((await raw.exists(lease)) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(await raw.exists(lease)).toBe(1);
    // Killed while its 50 ms query runs: it never reads the row, writes the value or gives the lease back.
    await a.stop('SIGKILL');
    const started = performance.now();
    const reply = await b.get('/products/21');
    const waited = performance.now() - started;
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ id: '21', price: 210 });
    // It waited for the dead instance's 2 s lease to run out, then loaded: once.
    expect(waited).toBeGreaterThan(1_000);
    expect(waited).toBeLessThan(4_000);
    expect((await databaseReads()) - before).toBe(1);
  });

  it('shows a reprice made through one instance, a tag invalidation, on the others at once', async () => {
    expect((await b.get('/products/30')).body).toMatchObject({ price: 300 });
    expect((await c.get('/products/30')).body).toMatchObject({ price: 300 });
    expect(await b.send('POST', '/products/reprice', { factor: 2 })).toBe(204);
    expect(await timeUntil(c, '/products/30', (reply) => (reply.body as { price?: number } | undefined)?.price === 600)).toBeLessThan(1_000);
    expect((await b.get('/products/30')).body).toMatchObject({ price: 600 });
  });

  it('empties the cache of every instance on a clear through one', async () => {
    const cached = (await b.get('/products/31')).body as { price: number };
    expect((await b.get('/products/31')).body).toEqual(cached);
    // The database changes behind the cache's back: the instances go on serving what they cached.
    await raw.hSet('sample-app-database:products', '31', JSON.stringify({ ...cached, price: 1 }));
    expect((await b.get('/products/31')).body).toEqual(cached);
    expect(await c.send('DELETE', '/cache')).toBe(204);
    expect(await timeUntil(b, '/products/31', (reply) => (reply.body as { price?: number } | undefined)?.price === 1)).toBeLessThan(1_000);
  });

  it('keeps serving the instances from the cache after the changes', async () => {
    const before = (await b.get('/cache/stats')).body as { l1: { hits: number }; l2: { hits: number } };
    await b.get('/products/5');
    await b.get('/products/5');
    await b.get('/products/5');
    const after = (await b.get('/cache/stats')).body as { l1: { hits: number }; l2: { hits: number } };
    expect(after.l1.hits + after.l2.hits - before.l1.hits - before.l2.hits).toBeGreaterThanOrEqual(2);
  });
});
