/** Shuffles `order` in place (Fisher-Yates) and returns it. */
export function shuffle<T>(order: T[]): T[] {
  for (let index = order.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [order[index], order[other]] = [order[other], order[index]];
  }
  return order;
}
