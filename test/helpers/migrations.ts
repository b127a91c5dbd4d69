/**
 * Migration directories in Prisma's layout, written for a test and removed after its file
 * (`removeMigrationDirectories` in `afterAll`).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const written: string[] = [];

/** A new directory holding `migration_lock.toml` and one `<name>/migration.sql` per `[name, sql]`. */
export async function migrationsDirectory(
  migrations: readonly (readonly [string, string])[],
  prefix = 'migrations-',
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  written.push(dir);
  await writeFile(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  for (const [name, sql] of migrations) {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

export async function removeMigrationDirectories(): Promise<void> {
  for (const dir of written.splice(0)) await rm(dir, { recursive: true, force: true });
}
