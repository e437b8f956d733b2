/** A catalog item. */
export interface Product {
  id: string;
  name: string;
  price: number;
  updatedAt: Date;
}

/** Fields a client may change. */
export type ProductPatch = Partial<Pick<Product, 'name' | 'price'>>;
