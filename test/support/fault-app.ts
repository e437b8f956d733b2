import { decodeStoredText } from '../../lib/core/envelope';
import type { LoggerService } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { createClient } from 'redis';
import { type CacheEvent, LayeredCache, type LayeredCacheModuleOptions } from '../../lib';
import { ProductService } from '../fixtures/products';
import { createTestApp } from './app';
import { uniqueNamespace } from './redis';

/** Collects what the application logs, to assert on warnings and errors. */
export class CapturingLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  log(message: unknown): void {
    this.lines.push({ level: 'log', message: String(message) });
  }
  warn(message: unknown): void {
    this.lines.push({ level: 'warn', message: String(message) });
  }
  error(message: unknown): void {
    this.lines.push({ level: 'error', message: String(message) });
  }
  debug(): void {}
  verbose(): void {}
  /** Messages logged at `level`. */
  at(level: string): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => line.message);
  }
}

export interface FaultApp {
  readonly app: TestingModule;
  readonly service: ProductService;
  readonly cache: LayeredCache;
  readonly namespace: string;
  readonly logger: CapturingLogger;
  readonly events: CacheEvent[];
}

/** Boots the products application with its L2 on `redisUrl` (the test's own server) and records events and logs. */
export async function bootFaultApp(label: string, redisUrl: string, cache: LayeredCacheModuleOptions = {}): Promise<FaultApp> {
  const namespace = uniqueNamespace(label);
  const app = await createTestApp({ cache: { namespace, l2: { url: redisUrl }, ...cache } });
  const logger = new CapturingLogger();
  app.useLogger(logger);
  const layered = app.get(LayeredCache);
  const events: CacheEvent[] = [];
  layered.events$.subscribe((event) => events.push(event));
  return { app, service: app.get(ProductService), cache: layered, namespace, logger, events };
}

const createRawClient = (url: string) => createClient({ url, socket: { reconnectStrategy: () => 50 } });
export type RawClient = ReturnType<typeof createRawClient>;

/** A plain node-redis client, to look at (or tamper with) what the cache stored, independently of it. */
export async function rawClient(url: string): Promise<RawClient> {
  const client = createRawClient(url);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The value a stored envelope holds, decoded as the cache reads it; `undefined` for no key or a delete mark. */
export function envelopeValue(text: string | null): unknown {
  if (text === null) return undefined;
  return decodeStoredText(text)?.value;
}
