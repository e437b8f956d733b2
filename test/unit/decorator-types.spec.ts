import { describe, expect, it } from 'vitest';
import { CacheEvict, CacheWrite, Cacheable } from '../../lib';

/*
 * The key and tags functions of the decorators are checked against the decorated method's parameters at
 * compile time, as are TTL strings (`npm run typecheck` compiles this file; each `@ts-expect-error` fails it if the mismatch
 * compiled). A key function may read fewer arguments than the method takes, not others.
 */

interface Product {
  readonly id: string;
  readonly categoryId: number;
}

class Products {
  @Cacheable({ key: (id: string) => `product:${id}`, tags: (id: string) => [`product:${id}`] })
  async find(id: string): Promise<Product | undefined> {
    return { id, categoryId: 1 };
  }

  // A key of the first argument of a method that takes more.
  @Cacheable({ key: (id: string) => `product:${id}` })
  async findIn(id: string, tenant: string): Promise<string> {
    return `${tenant}:${id}`;
  }

  // @ts-expect-error the key function takes a number, the method a string
  @Cacheable({ key: (id: number) => `product:${id}` })
  async wrongKey(id: string): Promise<string> {
    return id;
  }

  // @ts-expect-error the tags function reads a second argument the method does not take
  @CacheWrite({ key: (product: Product) => `product:${product.id}`, tags: (product: Product, category: number) => [`category:${category}`] })
  async save(product: Product): Promise<Product> {
    return product;
  }

  @CacheWrite({ key: (product: Product) => `product:${product.id}`, tags: (product: Product) => [`category:${product.categoryId}`] })
  async update(product: Product): Promise<Product> {
    return product;
  }

  @CacheEvict({ key: [(id: string) => `product:${id}`, 'products:all'] })
  async remove(id: string): Promise<void> {
    void id;
  }

  // @ts-expect-error one of the keys takes an argument of another type
  @CacheEvict({ key: [(id: string) => `product:${id}`, (id: number) => `legacy:${id}`] })
  async removeLegacy(id: string): Promise<void> {
    void id;
  }

  // A TTL names its unit, or is a number of milliseconds.
  @Cacheable({ key: 'products:top', ttl: '30s' })
  async top(): Promise<string[]> {
    return [];
  }

  // Fixed keys and tags fit any method.
  @Cacheable({ key: 'products:count', tags: ['products'] })
  async count(filter: { readonly categoryId?: number }): Promise<number> {
    return filter.categoryId ?? 0;
  }
}

/** TTL strings without a unit the type knows; the decorators refuse them at run time too. */
const declareUnitlessTtl = () =>
  class Recent {
    // @ts-expect-error a TTL string without its unit could be seconds or milliseconds
    @Cacheable({ key: 'products:recent', ttl: '30' })
    async recent(): Promise<string[]> {
      return [];
    }
  };
const declareWordyTtl = () =>
  class Newest {
    // @ts-expect-error "seconds" is not a unit: 's' is
    @Cacheable({ key: 'products:new', ttl: '30 seconds' })
    async newest(): Promise<string[]> {
      return [];
    }
  };

describe('decorator types', () => {
  it('refuses TTL strings without a unit at run time as well', () => {
    expect(declareUnitlessTtl).toThrow('@Cacheable got ttl "30" (string)');
    expect(declareWordyTtl).toThrow('@Cacheable got ttl "30 seconds" (string)');
  });

  it('decorates methods whose parameters fit their key and tags functions', () => {
    expect(typeof Products.prototype.find).toBe('function');
    expect(typeof Products.prototype.count).toBe('function');
    expect(typeof Products.prototype.top).toBe('function');
  });
});
