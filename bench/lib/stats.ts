/**
 * Timing and summary helpers: every figure of the benchmarks is the median of several runs, reported with
 * its samples, next to a baseline measured in the same run.
 */
import { performance } from 'node:perf_hooks';

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values: a benchmark produced no sample');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const high = sorted[mid] as number;
  return sorted.length % 2 === 1 ? high : ((sorted[mid - 1] as number) + high) / 2;
}

/** Milliseconds `fn` took, and what it returned. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

/** Runs `fn` `repetitions` times (with `prepare` before each, untimed) and returns the timings in ms. */
export async function sample(
  repetitions: number,
  fn: (index: number) => Promise<unknown>,
  prepare?: (index: number) => Promise<unknown>,
): Promise<number[]> {
  const samples: number[] = [];
  for (let index = 0; index < repetitions; index += 1) {
    if (prepare) await prepare(index);
    samples.push((await timed(() => fn(index))).ms);
  }
  return samples;
}

/** Rounds to a few significant digits, for the JSON and the table. */
export function round(value: number, digits = 4): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const factor = 10 ** Math.max(0, digits - 1 - magnitude);
  return Math.round(value * factor) / factor;
}

export const MiB = 1024 * 1024;
