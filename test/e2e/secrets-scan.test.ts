/**
 * No secret and no row value leaves a run, whatever the path: the end-to-end paths (a successful release, a
 * failed release rolled back, a backup, a restore) run as a user runs them (the CLI, a separate process) and
 * in-process (the local runner), logged in as a dedicated role whose password is a unique random string, and every
 * output is collected: the CLI's stdout and stderr, the execution output (result and final state), every state
 * event, every notification, every log line written while the run was in-process, and every report file. None may
 * contain the password or the connection URL.
 *
 * Then a release fails on a unique violation of a row whose value is a unique e-mail address (PostgreSQL's DETAIL
 * names the key's value): the constraint is named in the outputs, the e-mail in none.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { composeRelease, createSampleDatabase } from '../../bin/sample/sample-app.js';
import { type LocalRunOptions, type LocalRunResult, runLocal } from '../../lib/local/runner.js';
import { runCli } from '../helpers/cli.js';
import {
  adminUrl,
  dropDatabasesAndCopies,
  sampleRelease,
  uniqueName,
  withAdmin,
  withClient,
} from '../helpers/database.js';
import { migrationsDirectory, removeMigrationDirectories } from '../helpers/migrations.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SAMPLE = 'prisma/migrations';

/** A password no output could contain by chance. */
const PASSWORD = `pw-${randomBytes(18).toString('base64url')}`;
const ROLE = uniqueName('h13_scan_role');

/** Every output of the runs, with where it came from. */
const outputs: { readonly where: string; readonly text: string }[] = [];
const databases: string[] = [];
let reportsDir = '';

/** The URL of database `name` on the test server, logged in as the dedicated role with its password. */
function roleUrl(name: string): string {
  const url = new URL(adminUrl());
  url.username = ROLE;
  url.password = PASSWORD;
  url.pathname = `/${name}`;
  return url.toString();
}

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI as a user runs it; its stdout, stderr and the report files it wrote are collected. */
async function cli(label: string, args: string[], databaseUrl: string, database: string): Promise<CliRun> {
  const startedAt = Date.now();
  const run = await runCli(args, { env: { DATABASE_URL: databaseUrl } });
  outputs.push({ where: `${label}: CLI stdout`, text: run.stdout });
  outputs.push({ where: `${label}: CLI stderr`, text: run.stderr });
  // The CLI writes its report under <cwd>/.reports/: the files written since it started that are about this database.
  const dir = join(ROOT, '.reports');
  for (const file of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, file);
    if ((await stat(path)).mtimeMs < startedAt - 1000) continue;
    const text = await readFile(path, 'utf8');
    if (text.includes(database)) outputs.push({ where: `${label}: report ${file}`, text });
  }
  return run;
}

/** The local runner in-process; its result, events, notifications, log lines and report are collected. */
async function inProcess(label: string, options: LocalRunOptions): Promise<LocalRunResult> {
  const lines: string[] = [];
  const capture =
    (stream: string) =>
    (...args: unknown[]) => {
      lines.push(
        `${stream}: ${args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}`,
      );
    };
  const spies = [
    vi.spyOn(console, 'log').mockImplementation(capture('console.log')),
    vi.spyOn(console, 'info').mockImplementation(capture('console.info')),
    vi.spyOn(console, 'warn').mockImplementation(capture('console.warn')),
    vi.spyOn(console, 'error').mockImplementation(capture('console.error')),
    vi.spyOn(console, 'debug').mockImplementation(capture('console.debug')),
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(`stdout: ${String(chunk)}`);
      return true;
    }),
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(`stderr: ${String(chunk)}`);
      return true;
    }),
  ];
  const events: string[] = [];
  const notifications: string[] = [];
  let result: LocalRunResult;
  try {
    result = await runLocal({
      ...options,
      reportsDir,
      onEvent: (event) => events.push(JSON.stringify(event)),
      onNotification: (notification) => notifications.push(JSON.stringify(notification)),
    });
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  outputs.push({ where: `${label}: execution output`, text: JSON.stringify(result) });
  outputs.push({ where: `${label}: state events`, text: events.join('\n') });
  outputs.push({ where: `${label}: notifications`, text: notifications.join('\n') });
  outputs.push({ where: `${label}: log lines`, text: lines.join('\n') });
  if (result.reportFile) {
    outputs.push({ where: `${label}: report`, text: await readFile(result.reportFile, 'utf8') });
  }
  return result;
}

/** The outputs that contain `needle` (also percent-encoded, as a URL writes it), by where they came from. */
function leaksOf(needle: string): string[] {
  const forms = new Set([needle, encodeURIComponent(needle)]);
  return outputs
    .filter(({ text }) => [...forms].some((form) => text.includes(form)))
    .map(({ where }) => where);
}

beforeAll(async () => {
  // A role of its own, with the unique password, that owns what it creates (snapshots are template clones).
  await withAdmin((client) => client.query(`CREATE ROLE "${ROLE}" LOGIN CREATEDB PASSWORD '${PASSWORD}'`));
  reportsDir = await mkdtemp(join(tmpdir(), 'secrets-scan-reports-'));
});

afterAll(async () => {
  await removeMigrationDirectories();
  await dropDatabasesAndCopies(databases);
  await withAdmin((client) => client.query(`DROP ROLE IF EXISTS "${ROLE}"`));
  await rm(reportsDir, { recursive: true, force: true });
});

// Each CLI command is a process that starts tsx and synthesizes the stack: seconds each, more on a loaded machine.
describe('a secrets scan over every output of the end-to-end paths', { timeout: 600_000 }, () => {
  it('finds the password and the connection URL in no output of a release, a rollback, a backup and a restore', async () => {
    // Prepare: one database for the in-process runs, one for the CLI, each the sample app at its previous release.
    const failing = await composeRelease('failing');
    const local = uniqueName('h13_scan_local');
    const viaCli = uniqueName('h13_scan_cli');
    databases.push(local, viaCli);
    for (const name of [local, viaCli]) await createSampleDatabase(roleUrl(name), name, SAMPLE);
    // The role really is the one connecting: it owns what it created.
    const owner = await withClient(
      roleUrl(local),
      async (client) =>
        (await client.query<{ owner: string }>('SELECT current_user AS owner')).rows[0]?.owner,
    );
    expect(owner).toBe(ROLE);

    // Act: in-process.
    const url = roleUrl(local);
    const release = await inProcess('release', {
      databaseUrl: url,
      migrationsDir: SAMPLE,
      input: sampleRelease(),
    });
    const rollback = await inProcess('rollback', {
      databaseUrl: url,
      migrationsDir: failing,
      transactionMode: 'per-migration',
    });
    const backup = await inProcess('backup', {
      databaseUrl: url,
      migrationsDir: SAMPLE,
      input: { mode: 'backup' },
    });
    const restore = await inProcess('restore', {
      databaseUrl: url,
      migrationsDir: SAMPLE,
      input: { mode: 'restore', snapshot: 'latest', confirm: local },
    });
    // Act: the CLI.
    const cliUrl = roleUrl(viaCli);
    const cliRelease = await cli('CLI release', ['run'], cliUrl, viaCli);
    const cliRollback = await cli(
      'CLI rollback',
      ['run', '--migrations', failing, '--transaction-mode', 'per-migration'],
      cliUrl,
      viaCli,
    );
    const cliBackup = await cli('CLI backup', ['backup'], cliUrl, viaCli);
    const cliRestore = await cli('CLI restore', ['restore', 'latest', '--confirm', viaCli], cliUrl, viaCli);

    // Assess: every path ran as intended (a scan of runs that failed early would prove little).
    expect([release.outcome, rollback.outcome, backup.outcome, restore.outcome]).toEqual([
      'succeeded',
      'migration-rolled-back',
      'backup-taken',
      'backup-restored',
    ]);
    expect([cliRelease.code, cliRollback.code, cliBackup.code, cliRestore.code]).toEqual([
      0,
      rollback.exitCode,
      0,
      0,
    ]);
    expect(rollback.notifications?.length).toBeGreaterThan(0);
    const reports = outputs.filter(({ where }) => /report/.test(where)).map(({ where }) => where);
    expect(reports).toEqual(
      expect.arrayContaining(['release: report', 'rollback: report', 'backup: report', 'restore: report']),
    );
    expect(reports.filter((where) => where.startsWith('CLI')).length).toBeGreaterThanOrEqual(4);
    expect(outputs.length).toBeGreaterThan(24);
    for (const label of ['release', 'rollback', 'backup', 'restore']) {
      const events = outputs.find(({ where }) => where === `${label}: state events`)?.text ?? '';
      expect(events.split('\n').length, label).toBeGreaterThan(5);
    }
    // The scan: neither the password nor any URL carrying it.
    expect(leaksOf(PASSWORD)).toEqual([]);
    expect(leaksOf(url)).toEqual([]);
    expect(leaksOf(cliUrl)).toEqual([]);
    // The scan can see: the database's name (not a secret) is in the outputs.
    expect(outputs.some(({ text }) => text.includes(local))).toBe(true);
  });

  it('finds the password in no output of a run refused before it starts (unreachable server, missing database, bad URL)', async () => {
    // Prepare
    const missing = uniqueName('h13_scan_missing');
    const unreachable = new URL(roleUrl(missing));
    unreachable.port = '1';
    const badEncoding = `${roleUrl(missing).replace(encodeURIComponent(PASSWORD), `${PASSWORD}%zz`)}`;
    const migrations = await migrationsDirectory([
      ['20250101000000_a', 'CREATE TABLE "A" ("id" INTEGER);\n'],
    ]);
    const before = outputs.length;

    // Act
    const runs = [
      await cli('CLI unreachable', ['run', '--migrations', migrations], unreachable.toString(), missing),
      await cli('CLI missing database', ['run', '--migrations', migrations], roleUrl(missing), missing),
      await cli('CLI bad URL', ['run', '--migrations', migrations], badEncoding, missing),
      await cli('CLI backups of a missing database', ['backups'], roleUrl(missing), missing),
    ];

    // Assess: each refused with its reason, and none says the password.
    expect(runs.map((run) => run.code)).toEqual([1, 1, 1, 1]);
    const said = outputs
      .slice(before)
      .map(({ text }) => text)
      .join('\n');
    expect(said).toContain('Cannot connect to PostgreSQL at 127.0.0.1:1/');
    expect(said).toContain(`The database ${missing} does not exist`);
    expect(said).toContain("The database URL's password is not valid percent-encoding");
    expect(leaksOf(PASSWORD)).toEqual([]);
  });

  it('names the unique constraint a release violated, never the row value in its key (a unique e-mail)', async () => {
    // Prepare: a table with a unique e-mail and a row, then a release that duplicates that row.
    const email = `h13.${randomBytes(6).toString('hex')}@example.test`;
    const name = uniqueName('h13_scan_dup');
    databases.push(name);
    await withAdmin((client) => client.query(`CREATE DATABASE "${name}" OWNER "${ROLE}"`));
    const url = roleUrl(name);
    const base = [
      '20250101000000_subscribers',
      'CREATE TABLE "Subscriber" ("id" SERIAL PRIMARY KEY, "email" TEXT NOT NULL, CONSTRAINT "Subscriber_email_key" UNIQUE ("email"));\n',
    ] as const;
    expect(
      (await runLocal({ databaseUrl: url, migrationsDir: await migrationsDirectory([base]), reportsDir }))
        .outcome,
    ).toBe('succeeded');
    await withClient(url, (client) =>
      client.query('INSERT INTO "Subscriber" ("email") VALUES ($1)', [email]),
    );
    // The migration names no value: the duplicate comes from the row itself.
    const release = await migrationsDirectory([
      base,
      [
        '20250201000000_duplicate_subscribers',
        'INSERT INTO "Subscriber" ("email") SELECT "email" FROM "Subscriber";\n',
      ],
    ]);
    const before = outputs.length;

    // Act
    const result = await inProcess('unique violation', { databaseUrl: url, migrationsDir: release });
    const viaCli = await cli('CLI unique violation', ['run', '--migrations', release], url, name);

    // Assess
    expect(result.outcome).not.toBe('succeeded');
    expect(viaCli.code).toBe(result.exitCode);
    const these = outputs.slice(before);
    const containing = (needle: string) =>
      these.filter(({ text }) => text.includes(needle)).map(({ where }) => where);
    expect(containing('Subscriber_email_key')).toEqual(
      expect.arrayContaining([
        'unique violation: execution output',
        'unique violation: report',
        'CLI unique violation: CLI stdout',
      ]),
    );
    // PostgreSQL's DETAIL (Key (email)=(<the e-mail>) already exists.) comes through with the value replaced.
    expect(containing('Key (email)=(***) already exists').length).toBeGreaterThan(0);
    expect(containing(email)).toEqual([]);
    expect(containing(email.split('@')[0] as string)).toEqual([]);
    expect(leaksOf(PASSWORD)).toEqual([]);
  });
});
