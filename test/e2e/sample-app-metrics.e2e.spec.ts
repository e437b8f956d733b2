import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../../sample-app/src/app.module';
import { metricsPortFrom } from '../../sample-app/src/metrics/metrics-port';
import { uniqueNamespace } from '../support/redis';
import { freePort } from '../support/redis-server';

describe('sample app with METRICS_PORT set', () => {
  let app: INestApplication;
  let metricsPort: number;

  beforeAll(async () => {
    metricsPort = await freePort();
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.register({ namespace: uniqueNamespace('sample-metrics'), metricsPort })] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
  });

  const scrape = async (): Promise<string> => {
    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  };

  it('serves the cache metrics for Prometheus on loopback', async () => {
    await request(app.getHttpServer()).get('/products/3').expect(200);
    await request(app.getHttpServer()).get('/products/3').expect(200);

    const text = await scrape();
    expect(text).toMatch(/^layered_cache_hits_total\{[^}]*cache_layer="l1"[^}]*\} 1$/m);
    expect(text).toMatch(/^layered_cache_misses_total\{[^}]*cache_layer="l1"[^}]*\} 1$/m);
    expect(text).toMatch(/^layered_cache_operation_duration_count\{[^}]*cache_operation="getOrSet"[^}]*\} 1$/m);
    expect(text).toMatch(/^layered_cache_l1_entries\{[^}]*\} 1$/m);
  });

  it('stops serving them when the application closes', async () => {
    await app.close();
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  });
});

describe('METRICS_PORT', () => {
  it('is off when unset or empty, a port when it is one, and refused otherwise', () => {
    expect(metricsPortFrom(undefined)).toBeUndefined();
    expect(metricsPortFrom('')).toBeUndefined();
    expect(metricsPortFrom('9464')).toBe(9464);
    expect(() => metricsPortFrom('http')).toThrow(/METRICS_PORT must be a TCP port number from 1 to 65535/);
    expect(() => metricsPortFrom('70000')).toThrow(/got "70000"/);
  });
});
