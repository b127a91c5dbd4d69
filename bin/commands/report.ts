/**
 * `report <execution>`: prints an execution's report for a person (`--json`: the report as stored). Reads the
 * local run's `.reports/<execution>.json` (or `--dir`), a report file by path, or a report in the bucket by its
 * S3 URI (`s3://<bucket>/reports/<state machine>/<execution>.json`, as the notification names it).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ExecutionReport } from '../../lambdas/shared/contract/report-schema.js';
import { LOCAL_REPORTS_DIR } from '../../lib/local/reports.js';

export const REPORT_USAGE = `Usage: report <execution | file.json | s3://bucket/key> [--dir DIR] [--json]

  <execution>   the name of a local run: reads ${LOCAL_REPORTS_DIR}/<execution>.json (or DIR/<execution>.json)
  file.json     a report file
  s3://...      a report in the orchestrator's report bucket (reports/<state machine>/<execution>.json)
  --json        print the report as stored
  --help        this text

Exit codes: 0 printed, 1 usage or the report cannot be read.`;

/** Where to read the report from, and how it is fetched. */
export interface ReportCommandDeps {
  readonly s3?: S3Client;
  readonly print?: (line: string) => void;
}

async function load(target: string, dir: string, s3: S3Client | undefined): Promise<string> {
  const uri = /^s3:\/\/([^/]+)\/(.+)$/.exec(target);
  if (uri) {
    // The SDK is loaded only for a report in the bucket (a local report, and --help, do without it).
    const { GetObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
    const out = await (s3 ?? new S3Client({})).send(
      new GetObjectCommand({ Bucket: uri[1] as string, Key: uri[2] as string }),
    );
    if (!out.Body) throw new Error(`${target} has no content.`);
    return await out.Body.transformToString();
  }
  const file = target.endsWith('.json') ? target : join(dir, `${target}.json`);
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        `No report at ${file}. Local runs write ${LOCAL_REPORTS_DIR}/<execution>.json in the directory they ran in; ` +
          'on AWS, pass the S3 URI the notification names.',
      );
    }
    throw error;
  }
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`;
}

/** A migration's time: milliseconds below a second, else seconds. */
function milliseconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : seconds(ms);
}

/** The report as lines for a person. */
export function renderReport(report: ExecutionReport): string[] {
  const lines: string[] = [];
  const { execution, outcome } = report;
  lines.push(`Execution ${execution.name} (${report.runtime}): ${execution.status}`);
  lines.push(`  ${outcome.summary}`);
  const facts: [string, string | undefined][] = [
    ['database', [report.target, report.database].filter(Boolean).join(' / ') || undefined],
    ['release', report.release],
    ['mode', report.mode],
    ['started', execution.startedAt],
    ['duration', seconds(execution.durationMs)],
    ['console', execution.consoleUrl],
  ];
  for (const [key, value] of facts) if (value) lines.push(`  ${key.padEnd(9)} ${value}`);
  if (report.migrations) {
    const m = report.migrations;
    lines.push('', `Migrations (${m.transactionMode ?? '-'} mode, ${seconds(m.durationMs)})`);
    lines.push(`  pending  ${m.pending.join(', ') || 'none'}`);
    lines.push(`  applied  ${m.applied.join(', ') || 'none'}`);
    for (const timing of m.timings ?? []) {
      lines.push(`  ${milliseconds(timing.durationMs).padStart(9)}  ${timing.name}`);
    }
    if (m.timingsOmitted) lines.push(`  (${m.timingsOmitted} faster migrations not listed)`);
  }
  if (report.snapshot) lines.push('', `Snapshot ${report.snapshot.snapshotId}: ${report.snapshot.status}`);
  if (report.failure)
    lines.push('', `Failure ${report.failure.name}: ${report.failure.message ?? ''}`.trimEnd());
  for (const [title, health] of [
    ['Health', report.health],
    ['Health after rollback', report.rollback?.health],
  ] as const) {
    if (!health) continue;
    lines.push('', `${title}: ${health.healthy ? 'healthy' : 'NOT healthy'}`);
    for (const check of health.checks)
      lines.push(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
    for (const warning of health.warnings ?? []) lines.push(`  warn ${warning}`);
  }
  if (report.rollback?.restore) lines.push('', `Restored from ${report.rollback.restore.snapshotId}`);
  if (report.rollback?.error)
    lines.push(`Rollback error ${report.rollback.error.name}: ${report.rollback.error.message ?? ''}`);
  for (const notification of report.notifications) {
    lines.push(
      '',
      `Notified (${notification.state}): ${notification.subject ?? ''}`,
      `  ${notification.message}`,
    );
  }
  if (report.notificationError) lines.push('', `Notification not sent: ${report.notificationError.name}`);
  lines.push('', 'Path');
  for (const step of report.path) {
    const retries = step.retries > 0 ? `, ${step.retries} retries` : '';
    lines.push(
      `  ${seconds(step.durationMs).padStart(8)}  ${step.result === 'failed' ? 'x' : ' '} ${step.state}${retries}`,
    );
  }
  return lines;
}

export async function commandReport(args: string[], deps: ReportCommandDeps = {}): Promise<number> {
  const print = deps.print ?? ((line: string) => console.log(line));
  let parsed: ReturnType<typeof parseReportArgs>;
  try {
    parsed = parseReportArgs(args);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${REPORT_USAGE}`);
    return 1;
  }
  if (parsed.help) {
    print(REPORT_USAGE);
    return 0;
  }
  let text: string;
  let report: ExecutionReport;
  try {
    text = await load(parsed.target, parsed.dir, deps.s3);
    report = JSON.parse(text) as ExecutionReport;
  } catch (error) {
    console.error(`Cannot read the report: ${(error as Error).message}`);
    return 1;
  }
  if (parsed.json) print(text.trimEnd());
  else for (const line of renderReport(report)) print(line);
  return 0;
}

function parseReportArgs(args: string[]): { target: string; dir: string; json: boolean; help: boolean } {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { target: '', dir: '', json: false, help: true };
  if (positionals.length !== 1) throw new Error('report takes exactly one execution, file or S3 URI.');
  return {
    target: positionals[0] as string,
    dir: values.dir ?? LOCAL_REPORTS_DIR,
    json: values.json === true,
    help: false,
  };
}
