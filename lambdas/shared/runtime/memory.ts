/**
 * The memory this process may use: on Lambda the function's memory size (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in
 * MB, which Lambda sets); elsewhere (the local runner, the CLI) V8's heap limit, the figure past which Node
 * itself ends the process.
 */
import { getHeapStatistics } from 'node:v8';

export function availableMemoryBytes(env: NodeJS.ProcessEnv = process.env): number {
  const megabytes = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  if (Number.isInteger(megabytes) && megabytes > 0) return megabytes * 1024 * 1024;
  return getHeapStatistics().heap_size_limit;
}

/** The words naming where the memory figure comes from, for a refusal's message. */
export function memoryOwner(env: NodeJS.ProcessEnv = process.env): string {
  const name = env.AWS_LAMBDA_FUNCTION_NAME;
  return env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE
    ? `the function${name ? ` ${name}` : ''}`
    : "this process's heap limit (NODE_OPTIONS=--max-old-space-size=<MB> raises it)";
}
