import { Controller, Get } from '@nestjs/common';
import { LayeredCache, type LayeredCacheStats } from '../../../lib';

@Controller('cache')
export class CacheStatsController {
  constructor(private readonly cache: LayeredCache) {}

  /** Hits and misses per layer, writes, refills, errors and the offload service's counts. */
  @Get('stats')
  stats(): LayeredCacheStats {
    return this.cache.stats();
  }
}
