import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/directory-migration-source.js';
import { ErrorNames } from '../../lambdas/shared/contract.js';

async function layout(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

const LOCK = 'provider = "postgresql"\n';

describe('DirectoryMigrationSource', () => {
  it('loads the sample migrations sorted, with Prisma checksums of the raw bytes', async () => {
    const bundle = await new DirectoryMigrationSource('prisma/migrations').load();
    expect(bundle.provider).toBe('postgresql');
    expect(bundle.migrations.map((m) => m.name)).toEqual([...bundle.migrations.map((m) => m.name)].sort());
    expect(bundle.migrations.length).toBeGreaterThanOrEqual(4);
    const first = bundle.migrations[0];
    const bytes = await readFile(join('prisma/migrations', first?.name ?? '', 'migration.sql'));
    expect(first?.checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it.each([
    ['the directory is missing', null, 'does not exist'],
    [
      'migration_lock.toml is missing',
      { '1_a/migration.sql': 'SELECT 1;' },
      'migration_lock.toml is missing',
    ],
    [
      'the provider is not postgresql',
      { 'migration_lock.toml': 'provider = "mysql"', '1_a/migration.sql': '' },
      'provider = "mysql"',
    ],
    ['a folder has no migration.sql', { 'migration_lock.toml': LOCK, '1_a/readme.md': 'x' }, '1_a'],
    ['there are no migrations', { 'migration_lock.toml': LOCK }, 'holds no migrations'],
  ])('fails when %s', async (_case, files, message) => {
    const dir = files ? await layout(files) : join(tmpdir(), 'no-such-migrations-dir');
    const error = await new DirectoryMigrationSource(dir).load().catch((e: Error) => e);
    expect(error).toMatchObject({ name: ErrorNames.MigrationsInvalid });
    expect((error as Error).message).toContain(message);
  });
});
