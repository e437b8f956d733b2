import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import type { LayeredCacheModuleOptions } from './interfaces/layered-cache-module-options.interface.js';
import { LAYERED_CACHE_OPTIONS } from './layered-cache.constants.js';

/** Options that shape the module itself rather than the cache. */
export interface LayeredCacheModuleExtras {
  /** Register the module globally, so feature modules need not import it. Default false. */
  isGlobal?: boolean;
  /**
   * Providers added to the module after its defaults, so a provider for `WRITE_POLICY`, `READ_POLICY`,
   * `REFILL_POLICY`, `L1_STORE` or `L2_STORE` replaces the default one.
   */
  providers?: Provider[];
}

export const { ConfigurableModuleClass, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } = new ConfigurableModuleBuilder<LayeredCacheModuleOptions>({
  moduleName: 'LayeredCache',
  optionsInjectionToken: LAYERED_CACHE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createLayeredCacheOptions')
  .setExtras<LayeredCacheModuleExtras>({ isGlobal: false, providers: [] }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    providers: [...(definition.providers ?? []), ...(extras.providers ?? [])],
  }))
  .build();
