/**
 * The CLI as a user runs it, in a process of its own: its exit code (-1 when it was killed or timed out), stdout and
 * stderr.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

/** The project's root. */
export const ROOT = resolve(import.meta.dirname, '../..');

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface NodeRunOptions {
  /** @default the project's root */
  readonly cwd?: string;
  /** Added to this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** @default 180 s */
  readonly timeoutMs?: number;
}

/** `node ARGV`, to its end. */
export function runNode(argv: readonly string[], options: NodeRunOptions = {}): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [...argv],
      {
        cwd: options.cwd ?? ROOT,
        env: { ...process.env, ...options.env },
        timeout: options.timeoutMs ?? 180_000,
      },
      (error, stdout, stderr) => {
        done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

/** `bin/cli.ts ARGS` as TypeScript (tsx), from the project's root. */
export function runCli(args: readonly string[], options: NodeRunOptions = {}): Promise<CliRun> {
  return runNode(['--import', 'tsx', 'bin/cli.ts', ...args], options);
}
