/**
 * Where the project is on disk at synthesis: the root (package.json, package-lock.json, cdk.json) and the
 * step entry points under lambdas/.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root, with a trailing separator. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One folder per workflow step, each with its `handler.ts`. */
export const LAMBDAS_DIR = join(PROJECT_ROOT, 'lambdas');
