import { Inject } from '@nestjs/common';
import { getLayeredCacheToken, L1_STORE, L2_STORE } from '../layered-cache.constants.js';

/** Injects the module's L1 store. */
export const InjectL1Store = (): PropertyDecorator & ParameterDecorator => Inject(L1_STORE);

/** Injects the module's L2 store (`null` when the module runs L1 only). */
export const InjectL2Store = (): PropertyDecorator & ParameterDecorator => Inject(L2_STORE);

/**
 * Injects a cache: the one registered with `LayeredCacheModule.forRoot({ name })`, or without a name the
 * application's unnamed cache (the same as injecting `LayeredCache`).
 *
 * @example
 * constructor(@InjectLayeredCache('reports') private readonly reports: LayeredCache) {}
 */
export const InjectLayeredCache = (name?: string): PropertyDecorator & ParameterDecorator => Inject(getLayeredCacheToken(name));
