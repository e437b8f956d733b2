import net from 'node:net';

interface Pipe {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  /** Bytes held back while black-holed, per direction. */
  readonly toUpstream: Buffer[];
  readonly toClient: Buffer[];
}

/**
 * A loopback TCP proxy in front of a server, to black-hole it: `blackhole()` stops forwarding in both
 * directions without closing any socket (so clients see neither an error nor an answer, as when packets
 * are dropped), `heal()` delivers what was held back and forwards again. `delayReplies(ms)` makes a slow
 * but healthy server: every reply reaches the client `ms` later than the server sent it, in order.
 */
export class TcpProxy {
  private blackholed = false;
  private replyDelayMs = 0;
  private readonly pipes = new Set<Pipe>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = net.createServer((client) => proxy?.accept(client, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Stops forwarding; sockets stay open. */
  blackhole(): void {
    this.blackholed = true;
  }

  /** Delivers what was held back and forwards again. */
  heal(): void {
    this.blackholed = false;
    for (const pipe of this.pipes) {
      for (const chunk of pipe.toUpstream.splice(0)) pipe.upstream.write(chunk);
      for (const chunk of pipe.toClient.splice(0)) pipe.client.write(chunk);
    }
  }

  /** Delays every reply from now on by `ms` (0: none), as a slow network or an overloaded server would. */
  delayReplies(ms: number): void {
    this.replyDelayMs = ms;
  }

  /** Closes every connection and the listening socket. */
  async close(): Promise<void> {
    for (const pipe of this.pipes) {
      pipe.client.destroy();
      pipe.upstream.destroy();
    }
    this.pipes.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket, targetPort: number): void {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pipe: Pipe = { client, upstream, toUpstream: [], toClient: [] };
    this.pipes.add(pipe);
    client.on('data', (chunk) => (this.blackholed ? pipe.toUpstream.push(chunk) : upstream.write(chunk)));
    upstream.on('data', (chunk) => {
      if (this.blackholed) pipe.toClient.push(chunk);
      // Each chunk is held for the same time, so replies keep their order.
      else if (this.replyDelayMs > 0) setTimeout(() => client.writable && client.write(chunk), this.replyDelayMs);
      else client.write(chunk);
    });
    const close = () => {
      this.pipes.delete(pipe);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }
}
