import { Inject } from '@nestjs/common';
import { L1_STORE, L2_STORE } from '../layered-cache.constants.js';

/** Injects the module's L1 store. */
export const InjectL1Store = (): PropertyDecorator & ParameterDecorator => Inject(L1_STORE);

/** Injects the module's L2 store (`null` when the module runs L1 only). */
export const InjectL2Store = (): PropertyDecorator & ParameterDecorator => Inject(L2_STORE);
