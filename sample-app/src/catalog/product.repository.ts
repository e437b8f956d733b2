import { Inject, Injectable } from '@nestjs/common';
import type { Product } from './product';
import { PRODUCT_TABLE, type ProductTable } from './product-table';

/** Stands in for a database access layer: every query takes about 50 ms. */
@Injectable()
export class ProductRepository {
  static readonly QUERY_DELAY_MS = 50;

  constructor(@Inject(PRODUCT_TABLE) private readonly table: ProductTable) {}

  async findById(id: string): Promise<Product | undefined> {
    await this.query();
    return this.table.get(id);
  }

  async save(product: Product): Promise<Product> {
    await this.query();
    await this.table.put(product);
    return { ...product };
  }

  /** Multiplies every price by `factor` (one query). */
  async repriceAll(factor: number): Promise<void> {
    await this.query();
    await this.table.reprice(factor);
  }

  async delete(id: string): Promise<boolean> {
    await this.query();
    return this.table.remove(id);
  }

  private query(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ProductRepository.QUERY_DELAY_MS));
  }
}
