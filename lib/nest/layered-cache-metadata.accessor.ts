import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { CachedMethodDefinition } from './decorators/cached-method.definition.js';
import { CACHED_METHOD_METADATA } from './layered-cache.constants.js';

/** The only class that reads the cache decorators' metadata. */
@Injectable()
export class LayeredCacheMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  getDefinitions(method: unknown): readonly CachedMethodDefinition[] {
    if (typeof method !== 'function') return [];
    return this.reflector.get<CachedMethodDefinition[] | undefined>(CACHED_METHOD_METADATA, method) ?? [];
  }
}
