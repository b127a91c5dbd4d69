/**
 * Loads migrations from a directory in Prisma's layout:
 *
 *   migrations/
 *     migration_lock.toml            provider = "postgresql"
 *     20250101090000_init/
 *       migration.sql
 *
 * On AWS the directory is bundled beside the handler; locally it is the project's `prisma/migrations`.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MigrationsInvalidError } from '../errors.js';
import type { Migration, MigrationBundle, MigrationSource } from '../ports.js';

export const LOCK_FILE = 'migration_lock.toml';
export const MIGRATION_FILE = 'migration.sql';

/** sha256 hex of the raw bytes, exactly as Prisma records it in `_prisma_migrations.checksum`. */
export function checksumOf(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function providerOf(lockFile: string): string | undefined {
  const match = /^\s*provider\s*=\s*"([^"]+)"\s*$/m.exec(lockFile);
  return match?.[1];
}

export class DirectoryMigrationSource implements MigrationSource {
  readonly directory: string;

  constructor(directory: string) {
    this.directory = resolve(directory);
  }

  async load(): Promise<MigrationBundle> {
    const dir = this.directory;
    if (!existsSync(dir) || !(await stat(dir)).isDirectory()) {
      throw new MigrationsInvalidError(
        `The migrations directory ${dir} does not exist. Point the orchestrator at your Prisma ` +
          'migrations folder (the one `prisma migrate dev` writes, usually prisma/migrations).',
        { details: { directory: dir } },
      );
    }
    const lockPath = join(dir, LOCK_FILE);
    if (!existsSync(lockPath)) {
      throw new MigrationsInvalidError(
        `${dir} is not a Prisma migrations directory: ${LOCK_FILE} is missing. Prisma writes it with ` +
          'the first migration; commit it with your migrations.',
        { details: { directory: dir } },
      );
    }
    const provider = providerOf(await readFile(lockPath, 'utf8'));
    if (provider !== 'postgresql') {
      throw new MigrationsInvalidError(
        `${lockPath} says provider = "${provider ?? '(none)'}"; this orchestrator deploys PostgreSQL ` +
          'migrations only (RDS/Aurora PostgreSQL). Check that the directory belongs to a PostgreSQL datasource.',
        { details: { directory: dir, provider } },
      );
    }
    const entries = (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    const migrations: Migration[] = [];
    for (const name of entries) {
      const file = join(dir, name, MIGRATION_FILE);
      if (!existsSync(file)) {
        throw new MigrationsInvalidError(
          `Migration ${name} in ${dir} has no ${MIGRATION_FILE}. Every folder under the migrations ` +
            `directory must hold one; remove the folder or restore its ${MIGRATION_FILE}.`,
          { details: { directory: dir, migration: name } },
        );
      }
      const bytes = await readFile(file);
      migrations.push({ name, sql: bytes.toString('utf8'), checksum: checksumOf(bytes) });
    }
    if (migrations.length === 0) {
      throw new MigrationsInvalidError(
        `${dir} holds no migrations. Create one with \`prisma migrate dev\` and commit it, or point the ` +
          'orchestrator at the right directory.',
        { details: { directory: dir } },
      );
    }
    return { directory: dir, migrations, provider };
  }
}
