import { Controller, Get, Injectable, type INestApplication, Param, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cacheable, LayeredCacheModule } from '../../lib';

const ROLE = 'role';

@Injectable()
class Counter {
  calls = 0;
}

@Controller('items')
class ItemsController {
  constructor(readonly counter: Counter) {}

  @Get(':id')
  @SetMetadata(ROLE, 'reader')
  @Cacheable({ key: (id: string) => `item:${id}` })
  async findOne(@Param('id') id: string): Promise<{ id: string; calls: number }> {
    return { id, calls: ++this.counter.calls };
  }

  @Cacheable({ key: (id: string) => `other:${id}` })
  @SetMetadata(ROLE, 'admin')
  @Get('other/:id')
  async other(@Param('id') id: string): Promise<{ id: string; calls: number }> {
    return { id, calls: ++this.counter.calls };
  }
}

describe('cache decorators on controller methods', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [LayeredCacheModule.forRoot()],
      controllers: [ItemsController],
      providers: [Counter],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(() => app.close());

  it('serves route handlers from the cache, whichever side of the route decorators they are on', async () => {
    const server = app.getHttpServer();
    expect((await request(server).get('/items/1')).body).toEqual({ id: '1', calls: 1 });
    expect((await request(server).get('/items/1')).body).toEqual({ id: '1', calls: 1 });
    expect((await request(server).get('/items/other/2')).body).toEqual({ id: '2', calls: 2 });
    expect((await request(server).get('/items/other/2')).body).toEqual({ id: '2', calls: 2 });
  });

  it('keeps the metadata of other decorators readable on the method', () => {
    const reflector = app.get(Reflector);
    expect(reflector.get(ROLE, ItemsController.prototype.findOne)).toBe('reader');
    expect(reflector.get(ROLE, ItemsController.prototype.other)).toBe('admin');
  });
});
