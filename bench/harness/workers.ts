/** Runs `operation` over `count` items with `concurrency` of them in flight, each worker taking the next item. */
export async function runConcurrently(count: number, concurrency: number, operation: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await operation(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
