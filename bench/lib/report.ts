/**
 * The shape of a benchmark run (what `.bench/*.json` holds and what the smoke test checks), and the table
 * printed on the console and kept in bench/README.md.
 */
import { median, round } from './stats.js';

export const BenchmarkIds = [
  'apply-throughput',
  'noop-deploy',
  'snapshot-restore',
  'workflow-overhead',
  'lambda-packages',
  'cli-noop',
  'memory',
  'verification',
] as const;
export type BenchmarkId = (typeof BenchmarkIds)[number];

export type Unit = 'ms' | 's' | 'ms/migration' | 'MB';

export interface Baseline {
  /** What the baseline is (`psql, one session`, `pg_dump -Fc`, ...). */
  readonly name: string;
  readonly value: number;
  readonly samples: readonly number[];
  /** Where a figure comes from when it is not measured here (a published size). */
  readonly published?: string;
}

export interface BenchRow {
  readonly benchmark: BenchmarkId;
  /** The case (`N=200`, `200 MB`, `sample release`, an asset). */
  readonly case: string;
  /** What is measured (`engine, release mode`, `snapshot`). */
  readonly subject: string;
  readonly unit: Unit;
  /** The median of `samples`. */
  readonly value: number;
  readonly samples: readonly number[];
  readonly baseline?: Baseline;
  /** `value / baseline.value`: below 1 is faster (or smaller) than the baseline. */
  readonly ratio?: number;
  /** Why there is no baseline (a tool is not installed, ...). */
  readonly baselineUnavailable?: string;
  readonly details?: Readonly<Record<string, number | string | boolean>>;
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly postgres: string;
  readonly clientTools: string;
}

export type BenchMode = 'full' | 'quick' | 'smoke';

export interface BenchResult {
  readonly date: string;
  readonly mode: BenchMode;
  readonly repetitions: number;
  readonly machine: MachineInfo;
  readonly database: 'embedded' | 'BENCH_DATABASE_URL' | 'given';
  readonly durationSeconds: number;
  readonly rows: readonly BenchRow[];
  /** What could not be measured and why, and how to fix it. */
  readonly notes: readonly string[];
}

export interface RowInput {
  readonly case: string;
  readonly subject: string;
  readonly unit: Unit;
  readonly samples: readonly number[];
  readonly baseline?: {
    readonly name: string;
    readonly samples: readonly number[];
    readonly published?: string;
  };
  readonly baselineUnavailable?: string;
  readonly details?: Readonly<Record<string, number | string | boolean>>;
}

/** Builds a row: medians of the samples and the ratio to the baseline's median. */
export function row(benchmark: BenchmarkId, input: RowInput): BenchRow {
  const value = round(median(input.samples));
  const samples = input.samples.map((s) => round(s));
  if (input.baseline) {
    const baselineValue = round(median(input.baseline.samples));
    return {
      benchmark,
      case: input.case,
      subject: input.subject,
      unit: input.unit,
      value,
      samples,
      baseline: {
        name: input.baseline.name,
        value: baselineValue,
        samples: input.baseline.samples.map((s) => round(s)),
        ...(input.baseline.published ? { published: input.baseline.published } : {}),
      },
      ratio: round(median(input.samples) / median(input.baseline.samples), 3),
      ...(input.details ? { details: input.details } : {}),
    };
  }
  return {
    benchmark,
    case: input.case,
    subject: input.subject,
    unit: input.unit,
    value,
    samples,
    baselineUnavailable: input.baselineUnavailable ?? 'no baseline',
    ...(input.details ? { details: input.details } : {}),
  };
}

function formatNumber(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  if (value >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function cells(r: BenchRow): string[] {
  const baseline = r.baseline
    ? `${formatNumber(r.baseline.value)} ${r.unit} (${r.baseline.name})`
    : `n/a: ${(r.baselineUnavailable ?? '').split(':')[0]}`;
  return [
    r.benchmark,
    r.case,
    r.subject,
    `${formatNumber(r.value)} ${r.unit}`,
    baseline,
    r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`,
  ];
}

const HEADERS = ['benchmark', 'case', 'measured', 'median', 'baseline (median)', 'ratio'];

/** A plain-text table for the console. */
export function textTable(rows: readonly BenchRow[]): string {
  const body = rows.map(cells);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((line) => (line[i] ?? '').length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(HEADERS), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** The same table in Markdown, for bench/README.md. */
export function markdownTable(rows: readonly BenchRow[]): string {
  const escapePipes = (value: string) => value.replaceAll('|', '\\|');
  return [
    `| ${HEADERS.join(' | ')} |`,
    `| ${HEADERS.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${cells(r).map(escapePipes).join(' | ')} |`),
  ].join('\n');
}

export function describeMachine(machine: MachineInfo): string {
  return (
    `${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB memory, ${machine.os}, ` +
    `Node ${machine.node}, PostgreSQL ${machine.postgres}, client tools: ${machine.clientTools}`
  );
}
