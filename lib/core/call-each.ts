/**
 * Calls `call` with every item, even when some calls throw; once all were made, rethrows the first failure.
 * For callbacks run from a timer or an immediate, where one listener's throw must not skip the others.
 */
export function callEach<T>(items: readonly T[], call: (item: T) => void): void {
  let failure: { error: unknown } | undefined;
  for (const item of items) {
    try {
      call(item);
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure !== undefined) throw failure.error;
}
