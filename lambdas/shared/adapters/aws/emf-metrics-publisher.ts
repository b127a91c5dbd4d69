/**
 * The metrics publisher on AWS: one Embedded Metric Format line on the function's standard output, from which
 * CloudWatch Logs extracts the metrics. Written with `process.stdout.write`, not `console`, so that neither the
 * function's log format (a JSON log format would wrap a console line) nor its application log level can change
 * or drop it.
 */
import type { MetricsPublisher } from '../../contract/report-ports.js';

export class EmfMetricsPublisher implements MetricsPublisher {
  private readonly write: (line: string) => void;

  constructor(options: { readonly write?: (line: string) => void } = {}) {
    this.write = options.write ?? ((line) => process.stdout.write(line));
  }

  publish(document: object): void {
    this.write(`${JSON.stringify(document)}\n`);
  }
}
