import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportJsonSchema } from '../../lambdas/shared/contract/report-schema.js';

describe('docs/report.schema.json', () => {
  it('is the JSON Schema of ExecutionReportSchema as npm run report-schema writes it', () => {
    // Act
    const written = readFileSync(join(import.meta.dirname, '../../docs/report.schema.json'), 'utf8');
    // Assess: regenerate with `npm run report-schema` when the report's schema changes.
    expect(written).toBe(`${JSON.stringify(reportJsonSchema(), null, 2)}\n`);
  });

  it('describes the fields a reader of the bucket relies on', () => {
    // Act
    const schema = reportJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    // Assess
    expect(schema.required).toEqual(
      expect.arrayContaining(['schemaVersion', 'execution', 'outcome', 'path']),
    );
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['input', 'plan', 'durations']));
  });
});
