/**
 * Fresh processes for the benchmarks that time or measure a whole process (the CLI, `psql`, `node -e ""`, the
 * memory benchmark's children): spawn to exit, with the exit code and the output kept for the checks.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface ProcessRun {
  /** Wall time from the spawn to the exit (the `close` event: output read to its end). */
  readonly ms: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ProcessOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Runs `binary` with `args` to its exit and times it; never rejects on a non-zero exit (the caller checks). */
export async function runProcess(
  binary: string,
  args: readonly string[],
  options: ProcessOptions = {},
): Promise<ProcessRun> {
  return await new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(binary, args, {
      env: options.env ?? process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({
        ms: performance.now() - started,
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** The last lines of a process's output, for an error message. */
export function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}
