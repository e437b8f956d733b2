import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { CacheEventBus } from '../core/cache-events.js';
import { LayeredCache } from '../engine/layered-cache.js';
import { OffloadService } from '../offload/offload.service.js';
import type { LayeredCacheModuleOptions } from './interfaces/layered-cache-module-options.interface.js';
import {
  DEFAULT_CACHE_NAME,
  getLayeredCacheToken,
  L1_STORE,
  L2_STORE,
  LAYERED_CACHE_NAME,
  LAYERED_CACHE_OPTIONS,
  READ_POLICY,
  REFILL_POLICY,
  REGISTERED_CACHE,
  WRITE_POLICY,
} from './layered-cache.constants.js';
import { INVALID_CACHE_NAME } from './layered-cache.messages.js';

/** Options that shape the module itself rather than the cache. */
export interface LayeredCacheModuleExtras {
  /** Register the module globally, so feature modules need not import it. Default false. */
  isGlobal?: boolean;
  /**
   * Providers added to the module after its defaults, so a provider for `WRITE_POLICY`, `READ_POLICY`,
   * `REFILL_POLICY`, `L1_STORE` or `L2_STORE` replaces the default one (of this registration only).
   */
  providers?: Provider[];
  /**
   * Makes this registration a named cache, one more beside the application's unnamed one, with its own
   * layers, policies and (by default) the namespace `name`. Inject it with `@InjectLayeredCache(name)`; serve
   * a decorated method with it with the decorator option `cache: name`. A named registration exports only
   * `getLayeredCacheToken(name)`; the unnamed one exports `LayeredCache`, the stores, policies and options
   * under their tokens.
   */
  name?: string;
}

/** What the unnamed cache exports: every token of DESIGN section 2. */
const UNNAMED_EXPORTS = [LAYERED_CACHE_OPTIONS, L1_STORE, L2_STORE, READ_POLICY, WRITE_POLICY, REFILL_POLICY, OffloadService, LayeredCache, CacheEventBus];

export const { ConfigurableModuleClass, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } = new ConfigurableModuleBuilder<LayeredCacheModuleOptions>({
  moduleName: 'LayeredCache',
  optionsInjectionToken: LAYERED_CACHE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createLayeredCacheOptions')
  .setExtras<LayeredCacheModuleExtras>({ isGlobal: false, providers: [] }, (definition, extras) => {
    const name = validCacheName(extras.name);
    // Each registration is a module of its own: its tokens stay inside it, and only the named token leaves
    // a named one, so two caches imported side by side never shadow each other's `LayeredCache`.
    const cacheToken = getLayeredCacheToken(name === DEFAULT_CACHE_NAME ? undefined : name);
    return {
      ...definition,
      global: extras.isGlobal,
      providers: [...(definition.providers ?? []), { provide: LAYERED_CACHE_NAME, useValue: name }, { provide: cacheToken, useExisting: REGISTERED_CACHE }, ...(extras.providers ?? [])],
      exports: [...(definition.exports ?? []), ...(name === DEFAULT_CACHE_NAME ? UNNAMED_EXPORTS : [cacheToken])],
    };
  })
  .build();

function validCacheName(name: unknown): string {
  if (name === undefined) return DEFAULT_CACHE_NAME;
  if (typeof name !== 'string' || name === '') throw new TypeError(INVALID_CACHE_NAME(name));
  return name;
}
