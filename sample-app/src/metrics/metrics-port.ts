/**
 * The port of `METRICS_PORT`: `undefined` when it is unset or empty (the app then reports no metrics);
 * throws for anything but a TCP port number, rather than serving metrics somewhere unexpected.
 */
export function metricsPortFrom(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`METRICS_PORT must be a TCP port number from 1 to 65535 (e.g. 9464), got "${value}". Leave it unset to report no metrics.`);
  }
  return port;
}
