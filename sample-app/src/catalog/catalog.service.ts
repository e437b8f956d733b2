import { Injectable, NotFoundException } from '@nestjs/common';
import { CacheEvict, CacheWrite, Cacheable } from '../../../lib';
import type { Product, ProductPatch } from './product';
import { ProductRepository } from './product.repository';

const productKey = (id: string): string => `product:${id}`;

/** The catalog's business logic; its methods are cached, not the controller's. */
@Injectable()
export class CatalogService {
  constructor(private readonly products: ProductRepository) {}

  /**
   * Read through the cache; the repository is only asked on a miss, and by one instance at a time: the
   * others wait for its value (for at most the 2 s lease when it dies meanwhile).
   */
  @Cacheable({ key: productKey, ttl: 60_000, singleFlight: 'distributed', leaseMs: 2_000, tags: ['products'] })
  async findOne(id: string): Promise<Product | undefined> {
    return this.products.findById(id);
  }

  /** Reads the repository directly (the uncached path, for comparison). */
  async findOneUncached(id: string): Promise<Product | undefined> {
    return this.products.findById(id);
  }

  /** Saves, then writes the new value to both cache layers so every instance sees it. */
  @CacheWrite({ key: (id: string) => productKey(id), ttl: 60_000, tags: ['products'] })
  async update(id: string, patch: ProductPatch): Promise<Product> {
    const current = await this.products.findById(id);
    if (!current) throw new NotFoundException(`Product ${id} does not exist`);
    return this.products.save({ ...current, ...patch, id, updatedAt: new Date() });
  }

  /** Changes every price, then makes every cached product a miss on every instance (one tag, not one key each). */
  @CacheEvict({ tags: ['products'] })
  async reprice(factor: number): Promise<void> {
    await this.products.repriceAll(factor);
  }

  /** Deletes, then evicts the entry from both layers. */
  @CacheEvict({ key: productKey })
  async remove(id: string): Promise<void> {
    if (!(await this.products.delete(id))) throw new NotFoundException(`Product ${id} does not exist`);
  }
}
