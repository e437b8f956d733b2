import { type DynamicModule, Module } from '@nestjs/common';
import { CatalogController } from './catalog.controller';
import { CatalogService } from './catalog.service';
import { InMemoryProductTable, PRODUCT_TABLE, RedisProductTable } from './product-table';
import { ProductRepository } from './product.repository';

@Module({})
export class CatalogModule {
  /**
   * With a Redis URL, the products live in Redis, so that instances of the app share them as they would share
   * a database (under `<namespace>-database`, apart from the cache's keys); without, in process memory.
   */
  static register({ redisUrl, namespace }: { redisUrl?: string; namespace: string }): DynamicModule {
    return {
      module: CatalogModule,
      controllers: [CatalogController],
      providers: [
        CatalogService,
        ProductRepository,
        { provide: PRODUCT_TABLE, useFactory: () => (redisUrl ? new RedisProductTable(redisUrl, `${namespace}-database:products`) : new InMemoryProductTable()) },
      ],
    };
  }
}
