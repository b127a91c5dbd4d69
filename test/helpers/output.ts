/**
 * What the process writes to its standard output and error, captured line by line: Powertools' logger and metrics
 * write there (their own `Console` on `process.stdout`/`process.stderr`, as Lambda collects them), not through the
 * global `console` a test could spy on.
 */
import { vi } from 'vitest';

export interface CapturedOutput {
  /** Every complete line written since the capture started (or since `clear`), stdout and stderr interleaved. */
  lines(): string[];
  /** Every line parsed as JSON; fails on a line that is not. */
  json(): Record<string, unknown>[];
  clear(): void;
  restore(): void;
}

export function captureOutput(): CapturedOutput {
  let written = '';
  const record = (chunk: unknown): boolean => {
    written += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(record);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(record);
  const lines = () => written.split('\n').filter((line) => line !== '');
  return {
    lines,
    json: () =>
      lines().map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          throw new Error(`Not a JSON line: ${line}`);
        }
      }),
    clear: () => {
      written = '';
    },
    restore: () => {
      stdout.mockRestore();
      stderr.mockRestore();
    },
  };
}
