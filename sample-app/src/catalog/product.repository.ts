import { Injectable } from '@nestjs/common';
import type { Product } from './product';

/** Stands in for a database: every query takes about 50 ms. */
@Injectable()
export class ProductRepository {
  static readonly QUERY_DELAY_MS = 50;
  private readonly rows = new Map<string, Product>();

  constructor() {
    for (let i = 1; i <= 100; i++) {
      this.rows.set(String(i), { id: String(i), name: `Product ${i}`, price: i * 10, updatedAt: new Date(0) });
    }
  }

  async findById(id: string): Promise<Product | undefined> {
    await this.query();
    const row = this.rows.get(id);
    return row && { ...row };
  }

  async save(product: Product): Promise<Product> {
    await this.query();
    this.rows.set(product.id, { ...product });
    return { ...product };
  }

  async delete(id: string): Promise<boolean> {
    await this.query();
    return this.rows.delete(id);
  }

  private query(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ProductRepository.QUERY_DELAY_MS));
  }
}
