-- AlterTable
ALTER TABLE "Task" ADD COLUMN "priority" INTEGER NOT NULL DEFAULT 0;

-- Existing overdue tasks that are not done become urgent.
UPDATE "Task" SET "priority" = 2 WHERE "dueAt" < CURRENT_TIMESTAMP AND "status" <> 'DONE';

-- CreateIndex
CREATE INDEX "Task_assigneeId_priority_idx" ON "Task"("assigneeId", "priority");
