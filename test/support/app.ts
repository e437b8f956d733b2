import type { ModuleMetadata } from '@nestjs/common';
import { Test, type TestingModule, type TestingModuleBuilder } from '@nestjs/testing';
import { LayeredCacheModule, type LayeredCacheModuleExtras, type LayeredCacheModuleOptions } from '../../lib';
import { ProductsModule } from '../fixtures/products';

export interface TestAppOptions {
  cache: LayeredCacheModuleOptions & LayeredCacheModuleExtras;
  imports?: ModuleMetadata['imports'];
  providers?: ModuleMetadata['providers'];
  /** Adjusts the testing module before it compiles (overrideProvider and so on). */
  configure?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

/**
 * For tests that are not about timeouts: a loaded CI machine can stall one local Redis round trip past the
 * 200 ms default, which would turn an expected L2 write into a kept (replayed later) one.
 */
export const RELAXED_L2_TIME_LIMIT = { timeoutMs: 2_000 } as const;

/** Boots a Nest application context with the cache module (global) and the products feature module. */
export async function createTestApp({ cache, imports = [ProductsModule], providers = [], configure = (b) => b }: TestAppOptions): Promise<TestingModule> {
  const builder = Test.createTestingModule({
    imports: [LayeredCacheModule.forRoot({ isGlobal: true, ...cache }), ...imports],
    providers,
  });
  const moduleRef = await configure(builder).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return moduleRef;
}
