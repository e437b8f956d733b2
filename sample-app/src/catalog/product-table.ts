import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { createClient } from 'redis';
import type { Product } from './product';

/** Where the sample keeps its products: the stand-in for your application's database. */
export interface ProductTable {
  get(id: string): Promise<Product | undefined>;
  put(product: Product): Promise<void>;
  /** False when there was no such product. */
  remove(id: string): Promise<boolean>;
  /** Multiplies every price by `factor`. */
  reprice(factor: number): Promise<void>;
}

/** DI token of the {@link ProductTable}. */
export const PRODUCT_TABLE = Symbol('PRODUCT_TABLE');

/** The 100 products every table starts with. */
export function seedProducts(): Product[] {
  return Array.from({ length: 100 }, (_, index) => ({ id: String(index + 1), name: `Product ${index + 1}`, price: (index + 1) * 10, updatedAt: new Date(0) }));
}

/** A table in process memory: each instance of the app has its own, as with no shared database. */
export class InMemoryProductTable implements ProductTable {
  private readonly rows = new Map(seedProducts().map((product) => [product.id, product]));

  async get(id: string): Promise<Product | undefined> {
    const row = this.rows.get(id);
    return row && { ...row };
  }

  async put(product: Product): Promise<void> {
    this.rows.set(product.id, { ...product });
  }

  async remove(id: string): Promise<boolean> {
    return this.rows.delete(id);
  }

  async reprice(factor: number): Promise<void> {
    for (const row of this.rows.values()) row.price = Math.round(row.price * factor * 100) / 100;
  }
}

/**
 * A table in one Redis hash, outside the cache's namespace: every instance of the app started with the same
 * REDIS_URL shares it, as instances behind a load balancer share their database. It counts the rows read,
 * by all instances, under `<hash>:reads`: the queries the cache did not save.
 */
export class RedisProductTable implements ProductTable, OnModuleInit, OnApplicationShutdown {
  private readonly client: ReturnType<typeof createClient>;

  constructor(
    url: string,
    private readonly hash: string,
  ) {
    this.client = createClient({ url });
    this.client.on('error', () => undefined);
  }

  /** Connects, and seeds the products once for all instances: the first to start does it, the others find them there. */
  async onModuleInit(): Promise<void> {
    await this.client.connect();
    if ((await this.client.set(`${this.hash}:seeded`, '1', { NX: true })) === null) return;
    await this.client.hSet(this.hash, Object.fromEntries(seedProducts().map((product) => [product.id, JSON.stringify(product)])));
  }

  async get(id: string): Promise<Product | undefined> {
    const [text] = await Promise.all([this.client.hGet(this.hash, id), this.client.incr(`${this.hash}:reads`)]);
    if (text === null || text === undefined) return undefined;
    const row = JSON.parse(text) as Omit<Product, 'updatedAt'> & { updatedAt: string };
    return { ...row, updatedAt: new Date(row.updatedAt) };
  }

  async put(product: Product): Promise<void> {
    await this.client.hSet(this.hash, product.id, JSON.stringify(product));
  }

  async remove(id: string): Promise<boolean> {
    return (await this.client.hDel(this.hash, id)) > 0;
  }

  async reprice(factor: number): Promise<void> {
    const rows = await this.client.hGetAll(this.hash);
    const repriced = Object.entries(rows).map(([id, text]) => {
      const row = JSON.parse(text) as Product;
      return [id, JSON.stringify({ ...row, price: Math.round(row.price * factor * 100) / 100 })] as const;
    });
    if (repriced.length > 0) await this.client.hSet(this.hash, Object.fromEntries(repriced));
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.client.isOpen) this.client.destroy();
  }
}
