/**
 * Databases of a given size filled with realistic rows (the sample application's shape: users, projects,
 * tasks with an enum status and due dates, comments), generated server-side with `generate_series` in
 * batches until the rows and their indexes take the requested space. Foreign keys are added after the
 * load and the tables vacuumed and analysed, as a production database would be.
 */
import { performance } from 'node:perf_hooks';
import {
  databaseSize,
  databaseUrl,
  quoteIdent,
  recreateDatabase,
  withAdmin,
  withClient,
} from './lib/postgres.js';
import { MiB } from './lib/stats.js';

const SCHEMA = `
CREATE TYPE "TaskStatus" AS ENUM ('TODO', 'IN_PROGRESS', 'BLOCKED', 'DONE');
CREATE TABLE "User" (
  "id" SERIAL PRIMARY KEY,
  "email" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE TABLE "Project" (
  "id" SERIAL PRIMARY KEY,
  "name" TEXT NOT NULL,
  "ownerId" INTEGER NOT NULL,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX "Project_ownerId_idx" ON "Project"("ownerId");
CREATE TABLE "Task" (
  "id" SERIAL PRIMARY KEY,
  "title" TEXT NOT NULL,
  "description" TEXT,
  "status" "TaskStatus" NOT NULL DEFAULT 'TODO',
  "priority" INTEGER NOT NULL DEFAULT 0,
  "projectId" INTEGER NOT NULL,
  "assigneeId" INTEGER,
  "dueAt" TIMESTAMP(3),
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX "Task_projectId_status_idx" ON "Task"("projectId", "status");
CREATE INDEX "Task_assigneeId_idx" ON "Task"("assigneeId");
CREATE TABLE "Comment" (
  "id" SERIAL PRIMARY KEY,
  "body" TEXT NOT NULL,
  "taskId" INTEGER NOT NULL,
  "authorId" INTEGER NOT NULL,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX "Comment_taskId_idx" ON "Comment"("taskId");
`;

const FOREIGN_KEYS = `
ALTER TABLE "Project" ADD CONSTRAINT "Project_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id");
ALTER TABLE "Task" ADD CONSTRAINT "Task_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE;
ALTER TABLE "Task" ADD CONSTRAINT "Task_assigneeId_fkey" FOREIGN KEY ("assigneeId") REFERENCES "User"("id") ON DELETE SET NULL;
ALTER TABLE "Comment" ADD CONSTRAINT "Comment_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE CASCADE;
ALTER TABLE "Comment" ADD CONSTRAINT "Comment_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id");
`;

/** Users, projects, tasks and comments for tasks `from + 1 .. from + count` (ids are contiguous from 1). */
function batchSql(from: number, count: number): string {
  const users = { from: Math.floor(from / 20), to: Math.floor((from + count) / 20) + 1 };
  const projects = { from: Math.floor(from / 200), to: Math.floor((from + count) / 200) + 1 };
  return `
INSERT INTO "User" ("id", "email", "name", "createdAt")
SELECT u, 'user' || u || '.' || left(md5(u::text), 6) || '@example.com',
       (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Margaret','Ken','Radia','Frances'])[1 + u % 10] || ' ' ||
       (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Hamilton','Thompson','Perlman','Allen'])[1 + (u * 7) % 10],
       TIMESTAMP '2021-01-01' + u * INTERVAL '17 minutes'
FROM generate_series(${users.from + 1}, ${users.to}) AS u
ON CONFLICT DO NOTHING;
INSERT INTO "Project" ("id", "name", "ownerId", "createdAt")
SELECT p, (ARRAY['Apollo','Borealis','Cascade','Delta','Ember','Fjord','Granite','Harbor'])[1 + p % 8] || ' ' || p,
       1 + (p * 13) % ${users.to}, TIMESTAMP '2021-02-01' + p * INTERVAL '3 hours'
FROM generate_series(${projects.from + 1}, ${projects.to}) AS p
ON CONFLICT DO NOTHING;
INSERT INTO "Task" ("id", "title", "description", "status", "priority", "projectId", "assigneeId", "dueAt", "createdAt")
SELECT t,
       (ARRAY['Investigate','Implement','Review','Document','Refactor','Test','Ship','Triage'])[1 + t % 8] || ' ' ||
       (ARRAY['billing','search','onboarding','exports','notifications','auth','reports','imports'])[1 + (t / 7) % 8] || ' #' || t,
       CASE WHEN t % 5 = 0 THEN NULL ELSE
         'Customer ' || (t % 997) || ' reported: ' || md5(t::text) || ' ' || md5((t * 31)::text) || '. ' ||
         repeat('Steps to reproduce and expected behaviour follow. ', 1 + t % 4) END,
       (ARRAY['TODO','IN_PROGRESS','BLOCKED','DONE']::"TaskStatus"[])[1 + (t * 3) % 4],
       t % 5,
       1 + (t / 200),
       CASE WHEN t % 9 = 0 THEN NULL ELSE 1 + (t * 11) % ${users.to} END,
       CASE WHEN t % 3 = 0 THEN NULL ELSE TIMESTAMP '2022-01-01' + t * INTERVAL '5 minutes' END,
       TIMESTAMP '2021-03-01' + t * INTERVAL '2 minutes'
FROM generate_series(${from + 1}, ${from + count}) AS t;
INSERT INTO "Comment" ("body", "taskId", "authorId", "createdAt")
SELECT (ARRAY['Looks good to me.','Can we split this into two changes?','Blocked on review from the platform team.',
              'Done, please check on staging.','I could not reproduce this locally.','Added a test for the edge case.'])[1 + c % 6]
       || ' ' || left(md5((t * 3 + c)::text), 8 + (t + c) % 24),
       t, 1 + ((t + c) * 7) % ${users.to}, TIMESTAMP '2021-03-02' + t * INTERVAL '2 minutes' + c * INTERVAL '41 minutes'
FROM generate_series(${from + 1}, ${from + count}) AS t, generate_series(1, 3) AS c;
`;
}

export interface Dataset {
  readonly name: string;
  readonly url: string;
  /** pg_database_size after the load. */
  readonly bytes: number;
  /** What the rows and indexes take (the size minus an empty database's). */
  readonly dataBytes: number;
  readonly tasks: number;
  readonly seconds: number;
}

/** Creates database `name` with about `targetBytes` of rows and indexes. */
export async function createDataset(
  serverUrl: string,
  name: string,
  targetBytes: number,
  log: (line: string) => void = () => undefined,
): Promise<Dataset> {
  const started = performance.now();
  const url = await recreateDatabase(serverUrl, name);
  const emptyBytes = await databaseSize(serverUrl, name);
  let tasks = 0;
  await withClient(url, async (client) => {
    await client.query(SCHEMA);
    let bytesPerTask = 0;
    for (;;) {
      const grown = (await databaseSize(serverUrl, name)) - emptyBytes;
      if (grown >= targetBytes * 0.97) break;
      const next =
        bytesPerTask === 0
          ? Math.max(200, Math.min(20_000, Math.floor(targetBytes / 2000)))
          : Math.min(250_000, Math.max(200, Math.ceil((targetBytes - grown) / bytesPerTask)));
      await client.query(batchSql(tasks, next));
      tasks += next;
      const after = (await databaseSize(serverUrl, name)) - emptyBytes;
      bytesPerTask = after / tasks;
      log(`  ${name}: ${tasks} tasks, ${(after / MiB).toFixed(1)} MB of rows and indexes`);
    }
    for (const table of ['User', 'Project', 'Task', 'Comment']) {
      await client.query(
        `SELECT setval(pg_get_serial_sequence('${quoteIdent(table)}', 'id'), (SELECT coalesce(max("id"), 1) FROM ${quoteIdent(table)}))`,
      );
    }
    await client.query(FOREIGN_KEYS);
    await client.query('VACUUM ANALYZE');
  });
  // Flush the load to disk so the timings that follow do not pay for it (needs superuser or pg_checkpoint).
  await withAdmin(serverUrl, (client) => client.query('CHECKPOINT')).catch(() => undefined);
  const bytes = await databaseSize(serverUrl, name);
  return {
    name,
    url: databaseUrl(serverUrl, name),
    bytes,
    dataBytes: bytes - emptyBytes,
    tasks,
    seconds: (performance.now() - started) / 1000,
  };
}
