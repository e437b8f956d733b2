import { BadRequestException, Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Patch, Post } from '@nestjs/common';
import { CatalogService } from './catalog.service';
import type { Product, ProductPatch } from './product';

@Controller('products')
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  @Get(':id')
  async findOne(@Param('id') id: string): Promise<Product> {
    const product = await this.catalog.findOne(id);
    if (!product) throw new NotFoundException(`Product ${id} does not exist`);
    return product;
  }

  @Get(':id/uncached')
  async findOneUncached(@Param('id') id: string): Promise<Product> {
    const product = await this.catalog.findOneUncached(id);
    if (!product) throw new NotFoundException(`Product ${id} does not exist`);
    return product;
  }

  @Patch(':id')
  update(@Param('id') id: string, @Body() patch: ProductPatch): Promise<Product> {
    const changes: ProductPatch = {};
    if (typeof patch.name === 'string') changes.name = patch.name;
    if (patch.price !== undefined) changes.price = Number(patch.price);
    return this.catalog.update(id, changes);
  }

  /** `{ "factor": 1.1 }`: every price times the factor. */
  @Post('reprice')
  @HttpCode(204)
  reprice(@Body() body: { factor?: unknown }): Promise<void> {
    const factor = Number(body?.factor);
    if (!Number.isFinite(factor) || factor <= 0) throw new BadRequestException('factor must be a positive number, such as {"factor": 1.1}');
    return this.catalog.reprice(factor);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id') id: string): Promise<void> {
    return this.catalog.remove(id);
  }
}
