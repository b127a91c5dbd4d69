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
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { MigrationsInvalidError } from '../../contract/errors.js';
import type { Migration, MigrationBundle, MigrationSource } from '../../contract/ports.js';

export const LOCK_FILE = 'migration_lock.toml';
export const MIGRATION_FILE = 'migration.sql';

/** sha256 hex of the raw bytes, exactly as Prisma records it in `_prisma_migrations.checksum`. */
export function checksumOf(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Prisma's folder layout: a 14-digit timestamp, an underscore, a name (`20250101090000_init`). */
export const PRISMA_MIGRATION_NAME = /^\d{14}_.+$/;

/** True when `path` is `root` or lies under it (both already resolved through their links). */
function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** The `provider` that `migration_lock.toml` names, if any. */
export function providerOf(lockFile: string): string | undefined {
  const match = /^\s*provider\s*=\s*"([^"]+)"\s*$/m.exec(lockFile);
  return match?.[1];
}

/**
 * The warning for migration folders whose names do not follow Prisma's layout (none when all do): they are
 * applied in the lexical order of their names, which may not be the intended one.
 */
export function unusualFolderWarnings(names: readonly string[], where: string): string[] {
  const unusual = names.filter((name) => !PRISMA_MIGRATION_NAME.test(name));
  return unusual.length === 0
    ? []
    : [
        `Migration folder(s) ${unusual.join(', ')} in ${where} do not follow Prisma's layout ` +
          '<14-digit timestamp>_<name> (e.g. 20250101090000_init). Migrations are applied in the lexical ' +
          `order of their folder names: ${names.join(', ')}. Check that this order is the intended one, ` +
          'or rename the folders with timestamps.',
      ];
}

export interface DirectoryMigrationSourceOptions {
  /** How the plan names where the migrations come from. @default `directory: <absolute path>` */
  readonly description?: string;
}

export class DirectoryMigrationSource implements MigrationSource {
  readonly directory: string;
  private readonly description: string;

  constructor(directory: string, options: DirectoryMigrationSourceOptions = {}) {
    this.directory = resolve(directory);
    this.description = options.description ?? `directory: ${this.directory}`;
  }

  async load(): Promise<MigrationBundle> {
    const dir = this.directory;
    const info = await stat(dir).catch(() => undefined);
    if (info === undefined) {
      throw new MigrationsInvalidError(
        `The migrations directory ${dir} does not exist. Point the orchestrator at your Prisma ` +
          'migrations folder (the one `prisma migrate dev` writes, usually prisma/migrations).',
        { details: { directory: dir } },
      );
    }
    if (!info.isDirectory()) {
      throw new MigrationsInvalidError(
        `The migrations directory ${dir} is a file, not a directory. Point the orchestrator at the folder ` +
          'that holds migration_lock.toml and one folder per migration (usually prisma/migrations).',
        { details: { directory: dir } },
      );
    }
    const root = await realpath(dir);
    /** Resolves a link under the migrations directory, refusing one that leads out of it. */
    const inside = async (path: string, what: string): Promise<string> => {
      const target = await realpath(path).catch(() => {
        throw new MigrationsInvalidError(
          `${what} ${path} is a symbolic link to a missing target. Restore its target or remove the link.`,
          { details: { directory: dir, link: path } },
        );
      });
      if (!isInside(root, target)) {
        throw new MigrationsInvalidError(
          `${what} ${path} is a symbolic link to ${target}, outside the migrations directory ${dir}. ` +
            'Links that leave the migrations directory are refused: copy the migration into it instead.',
          { details: { directory: dir, link: path, target } },
        );
      }
      return target;
    };
    const lockPath = join(dir, LOCK_FILE);
    if (!existsSync(lockPath)) {
      throw new MigrationsInvalidError(
        `${dir} is not a Prisma migrations directory: ${LOCK_FILE} is missing. Prisma writes it with ` +
          'the first migration; commit it with your migrations.',
        { details: { directory: dir } },
      );
    }
    const provider = providerOf(await readFile(await inside(lockPath, LOCK_FILE), 'utf8'));
    if (provider !== 'postgresql') {
      throw new MigrationsInvalidError(
        `${lockPath} says provider = "${provider ?? '(none)'}"; this orchestrator deploys PostgreSQL ` +
          'migrations only (RDS/Aurora PostgreSQL). Check that the directory belongs to a PostgreSQL datasource.',
        { details: { directory: dir, provider } },
      );
    }
    const entries: string[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isSymbolicLink()) {
        // One rule for every link: followed when it stays inside the migrations directory, refused otherwise.
        const target = await inside(join(dir, entry.name), 'Migration folder');
        if ((await stat(target)).isDirectory()) entries.push(entry.name);
      } else if (entry.isDirectory()) {
        entries.push(entry.name);
      }
    }
    entries.sort();
    // Read side by side (a long history is hundreds of files), reported in order: the first failing folder's error.
    const read = await Promise.allSettled(
      entries.map(async (name): Promise<Migration> => {
        const file = join(dir, name, MIGRATION_FILE);
        if (!existsSync(file)) {
          throw new MigrationsInvalidError(
            `Migration ${name} in ${dir} has no ${MIGRATION_FILE}. Every folder under the migrations ` +
              `directory must hold one; remove the folder or restore its ${MIGRATION_FILE}.`,
            { details: { directory: dir, migration: name } },
          );
        }
        const bytes = await readFile(await inside(file, `The ${MIGRATION_FILE} of migration ${name},`));
        return { name, sql: bytes.toString('utf8'), checksum: checksumOf(bytes) };
      }),
    );
    const migrations: Migration[] = [];
    for (const result of read) {
      if (result.status === 'rejected') throw result.reason;
      migrations.push(result.value);
    }
    if (migrations.length === 0) {
      throw new MigrationsInvalidError(
        `${dir} holds no migrations. Create one with \`prisma migrate dev\` and commit it, or point the ` +
          'orchestrator at the right directory.',
        { details: { directory: dir } },
      );
    }
    const warnings = unusualFolderWarnings(entries, dir);
    return { directory: dir, migrations, provider, warnings, source: this.description };
  }
}
