import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Patch } from '@nestjs/common';
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

  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id') id: string): Promise<void> {
    return this.catalog.remove(id);
  }
}
