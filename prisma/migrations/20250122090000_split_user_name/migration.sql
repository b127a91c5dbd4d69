-- Split "User"."name" into "firstName" and "lastName" without losing data.
-- AlterTable
ALTER TABLE "User" ADD COLUMN "firstName" TEXT,
ADD COLUMN "lastName" TEXT;

-- Backfill: the first word is the first name, the rest the last name.
UPDATE "User"
SET "firstName" = split_part("name", ' ', 1),
    "lastName" = NULLIF(btrim(substr("name", length(split_part("name", ' ', 1)) + 1)), '');

-- AlterTable
ALTER TABLE "User" ALTER COLUMN "firstName" SET NOT NULL,
DROP COLUMN "name";
