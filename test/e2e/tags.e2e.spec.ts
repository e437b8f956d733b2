import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { type CacheEvent, CacheEvict, CacheWrite, Cacheable, LayeredCache } from '../../lib';
import { createTestApp, RELAXED_L2_TIME_LIMIT } from '../support/app';
import { connectRawRedis, deleteKeys, eventually, REDIS_URL, uniqueNamespace } from '../support/redis';

interface Product {
  id: string;
  category: string;
  price: number;
}

/** A catalog whose entries are tagged by category, as a service of an application would be. */
@Injectable()
class CatalogService {
  readonly rows = new Map<string, Product>([
    ['1', { id: '1', category: 'books', price: 10 }],
    ['2', { id: '2', category: 'books', price: 20 }],
    ['3', { id: '3', category: 'games', price: 30 }],
  ]);
  reads = 0;

  @Cacheable({ key: (id: string) => `product:${id}`, tags: (id: string) => ['products', `category:${idsCategory(id)}`] })
  async findOne(id: string): Promise<Product | undefined> {
    this.reads++;
    const row = this.rows.get(id);
    return row && { ...row };
  }

  @CacheWrite({ key: (product: Product) => `product:${product.id}`, tags: (product: Product) => ['products', `category:${product.category}`] })
  async save(product: Product): Promise<Product> {
    this.rows.set(product.id, { ...product });
    return product;
  }

  /** Reprices a whole category: every cached product of it is stale. */
  @CacheEvict({ tags: (category: string) => [`category:${category}`] })
  async reprice(category: string, factor: number): Promise<void> {
    for (const row of this.rows.values()) if (row.category === category) row.price *= factor;
  }

  @Cacheable({ key: 'broken', tags: () => ['ok', ''] })
  async withBrokenTags(): Promise<string> {
    this.reads++;
    return 'uncached';
  }
}

function idsCategory(id: string): string {
  return id === '3' ? 'games' : 'books';
}

describe('tags on decorated methods, two applications on one Redis', () => {
  const namespace = uniqueNamespace('tags-e2e');
  const apps: TestingModule[] = [];

  afterAll(async () => {
    for (const app of apps) await app.close();
    const raw = await connectRawRedis();
    await deleteKeys(raw, namespace);
    await raw.quit();
  });

  async function boot(): Promise<{ service: CatalogService; cache: LayeredCache; events: CacheEvent[] }> {
    const app = await createTestApp({ cache: { namespace, l2: { url: REDIS_URL }, resilience: RELAXED_L2_TIME_LIMIT }, imports: [], providers: [CatalogService] });
    apps.push(app);
    const cache = app.get(LayeredCache);
    const events: CacheEvent[] = [];
    cache.events$.subscribe((event) => events.push(event));
    return { service: app.get(CatalogService), cache, events };
  }

  it('@CacheEvict({ tags }) on one application makes the tagged results of both miss, and only those', async () => {
    const a = await boot();
    const b = await boot();
    expect((await a.service.findOne('1'))?.price).toBe(10);
    expect((await b.service.findOne('1'))?.price).toBe(10);
    expect((await b.service.findOne('3'))?.price).toBe(30);
    const readsBefore = b.service.reads;
    await a.service.reprice('books', 2);
    b.service.rows.get('1')!.price = 20; // b's own database sees the same change
    expect(await eventually(async () => (await b.service.findOne('1'))?.price === 20, 2_000)).toBe(true);
    expect(b.service.reads).toBe(readsBefore + 1);
    expect((await b.service.findOne('3'))?.price).toBe(30);
    expect(b.service.reads).toBe(readsBefore + 1);
  });

  it('@CacheWrite records the tags its function gives for the result', async () => {
    const a = await boot();
    await a.service.save({ id: '4', category: 'games', price: 40 });
    expect((await a.service.findOne('4'))?.price).toBe(40);
    const readsBefore = a.service.reads;
    await a.cache.invalidateTags(['category:games']);
    await a.service.findOne('4');
    expect(a.service.reads).toBe(readsBefore + 1);
  });

  it('a tags function that gives no list of non-empty strings runs the method uncached, and says why', async () => {
    const a = await boot();
    await a.service.withBrokenTags();
    await a.service.withBrokenTags();
    expect(a.service.reads).toBe(2);
    const error = a.events.find((event) => event.type === 'error');
    expect(error?.type === 'error' && error.error.message).toMatch(/The tags function of CatalogService\.withBrokenTags returned \["ok",""\]/);
  });
});
