#!/usr/bin/env node
/**
 * Writes docs/report.schema.json, the JSON Schema of the execution report, from its one definition
 * (`ExecutionReportSchema`, lambdas/shared/contract/report-schema.ts): `npm run report-schema`. A test fails when
 * the file in the repository differs from what this writes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { reportJsonSchema } from '../lambdas/shared/contract/report-schema.js';

const FILE = 'docs/report.schema.json';
const written = `${JSON.stringify(reportJsonSchema(), null, 2)}\n`;
let current = '';
try {
  current = readFileSync(FILE, 'utf8');
} catch {
  // Not written yet.
}
if (current === written) {
  process.stdout.write(`${FILE}: up to date.\n`);
} else {
  writeFileSync(FILE, written);
  process.stdout.write(`${FILE}: written from ExecutionReportSchema.\n`);
}
