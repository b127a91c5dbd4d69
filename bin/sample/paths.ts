/** Where the sample application's files are: on their own, so that the CLI knows them without loading the sample. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root (this file is bin/sample/paths.ts). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The sample app's migrations. */
export const SAMPLE_MIGRATIONS_DIR = join(ROOT, 'prisma', 'migrations');
