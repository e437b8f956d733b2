import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll } from 'vitest';

/** Children started by this process that may still run; killed on exit whatever happens to the tests. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const orphan of running) orphan.kill('SIGKILL');
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Resolves true when a Redis on `port` answers PING within `timeoutMs`; a server started with a password
 * answers it with NOAUTH, which says as much that it is up.
 */
export function answersPing(port: number, timeoutMs = 200): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      reply += data.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
    socket.on('error', () => done(false));
  });
}

/**
 * A `redis-server` of the test's own, on a free loopback port, without persistence, that the test can kill,
 * pause and restart by pid. Never the shared Redis. Always `stop()` it (afterAll); a process exit hook
 * kills what a crashed test left behind.
 */
export class RedisServer {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'layered-cache-redis-'));

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
  ) {}

  /**
   * Starts a server on `port` (default: a free one) and waits until it answers. `extraArgs` are more
   * `redis-server` options, such as `['--rename-command', 'CLIENT', '']` for a server that refuses CLIENT.
   */
  static async start(port?: number, extraArgs: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(port ?? (await freePort()), extraArgs);
    await server.launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Pid of the running server, `undefined` once killed. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Sends `signal` (default SIGKILL: no goodbye to clients) and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // A stopped process only acts on SIGKILL; wake it so that other signals work too.
    if (signal !== 'SIGKILL') child.kill('SIGCONT');
    child.kill(signal);
    await exited;
  }

  /** SIGSTOP: the server keeps its connections open but answers nothing (a hang). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT: the paused server answers again, starting with what queued up meanwhile. */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Kills the server if it runs, then starts a new one (empty) on the same port. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** Kills the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...this.extraArgs],
      { stdio: 'ignore' },
    );
    killOnExit(child);
    this.child = child;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`redis-server on port ${this.port} exited at start (${code ?? signal})`)));
    });
    failed.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const answered = await Promise.race([answersPing(this.port), failed]);
      if (answered) return;
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`redis-server on port ${this.port} did not answer within 10 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** What {@link ownRedisForFile} gives a test file. */
export interface OwnRedis {
  /** The file's own redis-server (started before its first test). */
  readonly server: RedisServer;
  /** A plain node-redis client on it, to look at or tamper with what the cache stored. */
  readonly raw: ReturnType<typeof createOwnRawClient>;
  /** Closes `close` after the file's tests, the last added first, before the server stops. */
  closeAfterAll(close: () => Promise<unknown>): void;
}

const createOwnRawClient = (url: string) => createClient({ url });

/**
 * For a test file that needs a Redis of its own: starts a redis-server and connects a plain client to it
 * before the first test, and after the last closes what the tests asked for, then the client and the server.
 * Call it at the top level of the file.
 */
export function ownRedisForFile(): OwnRedis {
  let server: RedisServer | undefined;
  let raw: ReturnType<typeof createOwnRawClient> | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    server = await RedisServer.start();
    raw = createOwnRawClient(server.url);
    raw.on('error', () => undefined);
    await raw.connect();
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    raw?.destroy();
    await server?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('ownRedisForFile: the server starts in beforeAll; use it inside tests and hooks');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get raw() {
      return started(raw);
    },
    closeAfterAll: (close) => closers.push(close),
  };
}
