/**
 * 3. Snapshot and restore with the local gateway (PostgresSnapshotGateway): databases of realistic rows of
 * each size, our snapshot (`CREATE DATABASE ... TEMPLATE`) and our restore + swap (a clone of the snapshot,
 * then two renames) versus what teams do by hand today: `pg_dump -Fc` of the database, and `pg_restore`
 * of that dump into a new database (created in the timed part; the renames that would follow are left out
 * of the baseline, they take milliseconds). Both are also set against a plain copy of the database's files on this
 * machine (`base/<oid>` of the data directory, copied and each fsynced: the work a clone cannot avoid), when this
 * process can read the server's data directory (the embedded server, or a local one it may read).
 */
import { access, constants, cp, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PostgresSnapshotGateway } from '../lambdas/shared/adapters/postgres/snapshot-gateway.js';
import { createDataset } from './dataset.js';
import { type BenchContext, DATABASE_PREFIX } from './lib/context.js';
import {
  dropDatabase,
  libpqEnv,
  missingTools,
  recreateDatabase,
  runTool,
  withAdmin,
} from './lib/postgres.js';
import { type BenchRow, row } from './lib/report.js';
import { MiB, timed } from './lib/stats.js';

/** The directory of the database's files, when this process can read it; otherwise why not. */
async function databaseFiles(serverUrl: string, name: string): Promise<string | { unavailable: string }> {
  const { dir, oid } = await withAdmin(serverUrl, async (client) => {
    const result = await client.query<{ dir: string | null; oid: string }>(
      "SELECT current_setting('data_directory', true) AS dir, oid::text FROM pg_database WHERE datname = $1",
      [name],
    );
    return result.rows[0] ?? { dir: null, oid: '' };
  });
  if (!dir) return { unavailable: 'the server does not show its data directory to this user' };
  const files = join(dir, 'base', oid);
  try {
    await access(files, constants.R_OK | constants.X_OK);
    return files;
  } catch {
    return { unavailable: `${files} is not readable here (a remote server, or another user's)` };
  }
}

/** Copies `from` to `to` and fsyncs every file copied, the work a `FILE_COPY` clone cannot avoid. */
async function copyAndSync(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true });
  for (const entry of await readdir(to)) {
    const file = await open(join(to, entry), 'r');
    try {
      await file.sync();
    } finally {
      await file.close();
    }
  }
}

function sizeLabel(mib: number): string {
  return mib >= 1024 ? `${mib / 1024} GB` : `${mib} MB`;
}

export async function snapshotRestore(context: BenchContext): Promise<BenchRow[]> {
  const { serverUrl, profile, tools, log } = context;
  const missing = missingTools(tools, ['pg_dump', 'pg_restore']);
  if (missing)
    context.note(`Snapshot and restore: the pg_dump/pg_restore baselines are unavailable (${missing}).`);
  const rows: BenchRow[] = [];
  for (const mib of profile.databaseSizesMiB) {
    const name = `${DATABASE_PREFIX}_snap_${mib}`;
    const dataset = await createDataset(serverUrl, name, mib * MiB, log);
    log(
      `  ${sizeLabel(mib)}: ${(dataset.bytes / MiB).toFixed(0)} MB database generated in ${dataset.seconds.toFixed(0)} s`,
    );
    const gateway = new PostgresSnapshotGateway({ serverUrl, databaseName: name });
    const samples = {
      snapshot: [] as number[],
      restore: [] as number[],
      dump: [] as number[],
      pgRestore: [] as number[],
      fileCopy: [] as number[],
    };
    let fileCopyUnavailable: string | undefined;
    let dumpBytes = 0;
    for (let rep = 0; rep < profile.repetitions; rep += 1) {
      const snapshotId = `${DATABASE_PREFIX}-snapshot-${mib}-${rep}`;
      const snapshot = await timed(() =>
        gateway.createSnapshot({ snapshotId, executionId: 'benchmark', tags: { benchmark: 'true' } }),
      );
      if (snapshot.value.status !== 'available')
        throw new Error(`snapshot ${snapshotId} is ${snapshot.value.status}`);
      samples.snapshot.push(snapshot.ms);

      const restore = await timed(async () => {
        const request = {
          snapshotId,
          originalIdentifier: name,
          restoredIdentifier: `${DATABASE_PREFIX}-restored-${mib}-${rep}`,
          asideIdentifier: `${DATABASE_PREFIX}-aside-${mib}-${rep}`,
          executionId: 'benchmark',
          tags: { benchmark: 'true' },
        };
        await gateway.restoreSnapshot(request);
        for (let step = 0; step < 5; step += 1) {
          if ((await gateway.swap(request)).complete) return;
        }
        throw new Error(`the swap of ${request.restoredIdentifier} did not complete in 5 steps`);
      });
      samples.restore.push(restore.ms);
      // The files of the restored copy, now serving as `name`, copied to the scratch directory: never read back.
      const files = await databaseFiles(serverUrl, name);
      if (typeof files !== 'string') fileCopyUnavailable = files.unavailable;
      else {
        const copy = join(context.workDir, `${name}-files`);
        await rm(copy, { recursive: true, force: true });
        const copied = await timed(() => copyAndSync(files, copy));
        samples.fileCopy.push(copied.ms);
        await rm(copy, { recursive: true, force: true });
      }
      // The restored copy now serves as `name`; the original (aside) and the snapshot go.
      await dropDatabase(serverUrl, `${DATABASE_PREFIX}-aside-${mib}-${rep}`);
      await dropDatabase(serverUrl, snapshotId);

      if (!missing) {
        const file = join(context.workDir, `${name}.dump`);
        const dump = await timed(() =>
          runTool(tools.pg_dump as string, ['-Fc', '-f', file], libpqEnv(serverUrl, name)),
        );
        samples.dump.push(dump.ms);
        dumpBytes = (await stat(file)).size;
        const target = `${DATABASE_PREFIX}_pgrestore_${mib}`;
        await dropDatabase(serverUrl, target);
        const restored = await timed(async () => {
          await recreateDatabase(serverUrl, target);
          await runTool(
            tools.pg_restore as string,
            ['--exit-on-error', '-d', target, file],
            libpqEnv(serverUrl, target),
          );
        });
        samples.pgRestore.push(restored.ms);
        await dropDatabase(serverUrl, target);
        await rm(file, { force: true });
      }
      log(
        `  ${sizeLabel(mib)} #${rep + 1}: snapshot ${(snapshot.ms / 1000).toFixed(2)} s, restore+swap ${(restore.ms / 1000).toFixed(2)} s` +
          (missing
            ? ''
            : `, pg_dump ${((samples.dump.at(-1) ?? 0) / 1000).toFixed(2)} s, pg_restore ${((samples.pgRestore.at(-1) ?? 0) / 1000).toFixed(2)} s`) +
          (samples.fileCopy.length > rep
            ? `, file copy ${((samples.fileCopy.at(-1) ?? 0) / 1000).toFixed(2)} s`
            : ''),
      );
    }
    const seconds = (values: readonly number[]) => values.map((ms) => ms / 1000);
    const details = {
      databaseMB: Math.round(dataset.bytes / MiB),
      rowsAndIndexesMB: Math.round(dataset.dataBytes / MiB),
      tasks: dataset.tasks,
      ...(dumpBytes > 0 ? { dumpMB: Math.round((dumpBytes / MiB) * 10) / 10 } : {}),
    };
    type Baseline = { baseline: { name: string; samples: number[] } } | { baselineUnavailable: string };
    const against = (name: string, values: readonly number[], unavailable: string | undefined): Baseline =>
      unavailable ? { baselineUnavailable: unavailable } : { baseline: { name, samples: seconds(values) } };
    const floor = against(
      "copy of the database's files, each fsynced",
      samples.fileCopy,
      fileCopyUnavailable,
    );
    if (fileCopyUnavailable)
      context.note(`Snapshot and restore: no file-copy baseline (${fileCopyUnavailable}).`);
    const measured = (subject: string, values: readonly number[], baseline: Baseline) =>
      row('snapshot-restore', {
        case: sizeLabel(mib),
        subject,
        unit: 's',
        samples: seconds(values),
        ...baseline,
        details,
      });
    const snapshot = 'snapshot (CREATE DATABASE ... TEMPLATE)';
    const restore = 'restore + swap (clone, 2 renames)';
    rows.push(
      measured(snapshot, samples.snapshot, against('pg_dump -Fc', samples.dump, missing)),
      measured(restore, samples.restore, against('createdb + pg_restore', samples.pgRestore, missing)),
      measured(snapshot, samples.snapshot, floor),
      measured(restore, samples.restore, floor),
    );
    await dropDatabase(serverUrl, name);
  }
  return rows;
}
