import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';

const created: string[] = [];

afterAll(async () => {
  for (const dir of created) await rm(dir, { recursive: true, force: true });
});

async function layout(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
  created.push(dir);
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

  it('fails when the migrations directory is a file, saying so instead of "does not exist"', async () => {
    // Prepare
    const dir = await layout({ 'not-a-dir.sql': 'SELECT 1;' });
    const file = join(dir, 'not-a-dir.sql');

    // Act
    const error = await new DirectoryMigrationSource(file).load().catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: ErrorNames.MigrationsInvalid });
    expect((error as Error).message).toContain(`${file} is a file, not a directory`);
    expect((error as Error).message).not.toContain('does not exist');
  });

  it('fails when a migration folder is a symbolic link out of the migrations directory, naming it', async () => {
    // Prepare
    const outside = await layout({ '20250101000000_elsewhere/migration.sql': 'SELECT 1;' });
    const dir = await layout({
      'migration_lock.toml': LOCK,
      '20250101000000_init/migration.sql': 'SELECT 1;',
    });
    await symlink(join(outside, '20250101000000_elsewhere'), join(dir, '20250102000000_linked'));

    // Act
    const error = await new DirectoryMigrationSource(dir).load().catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: ErrorNames.MigrationsInvalid });
    expect((error as Error).message).toContain(join(dir, '20250102000000_linked'));
    expect((error as Error).message).toContain('outside the migrations directory');
  });

  it('fails when a migration.sql is a symbolic link out of the migrations directory, naming it', async () => {
    // Prepare
    const outside = await layout({ 'shared.sql': 'SELECT 1;' });
    const dir = await layout({ 'migration_lock.toml': LOCK });
    await mkdir(join(dir, '20250101000000_init'));
    await symlink(join(outside, 'shared.sql'), join(dir, '20250101000000_init', 'migration.sql'));

    // Act
    const error = await new DirectoryMigrationSource(dir).load().catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: ErrorNames.MigrationsInvalid });
    expect((error as Error).message).toContain(join(dir, '20250101000000_init', 'migration.sql'));
    expect((error as Error).message).toContain('outside the migrations directory');
  });

  it('follows symbolic links that stay inside the migrations directory, folders and files alike', async () => {
    // Prepare
    const dir = await layout({
      'migration_lock.toml': LOCK,
      '20250101000000_init/migration.sql': 'CREATE TABLE a (id int);',
      '20250102000000_second/migration.sql': 'SELECT 2;',
    });
    await symlink('20250101000000_init', join(dir, '20250103000000_again'));

    // Act
    const bundle = await new DirectoryMigrationSource(dir).load();

    // Assess
    expect(bundle.migrations.map((m) => m.name)).toEqual([
      '20250101000000_init',
      '20250102000000_second',
      '20250103000000_again',
    ]);
    expect(bundle.migrations[2]?.sql).toBe('CREATE TABLE a (id int);');
    expect(bundle.warnings).toEqual([]);
  });

  it("warns when folder names do not follow Prisma's timestamp layout, giving the order they are applied in", async () => {
    // Prepare
    const dir = await layout({
      'migration_lock.toml': LOCK,
      '20250101000000_init/migration.sql': 'SELECT 1;',
      '10_users/migration.sql': 'SELECT 2;',
      '9_orders/migration.sql': 'SELECT 3;',
    });

    // Act
    const bundle = await new DirectoryMigrationSource(dir).load();

    // Assess
    expect(bundle.warnings).toHaveLength(1);
    expect(bundle.warnings?.[0]).toContain('10_users, 9_orders in');
    expect(bundle.warnings?.[0]).toContain("do not follow Prisma's layout <14-digit timestamp>_<name>");
    expect(bundle.warnings?.[0]).toContain('10_users, 20250101000000_init, 9_orders');
  });
});
