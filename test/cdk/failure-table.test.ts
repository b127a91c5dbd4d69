/**
 * The README's failure table against the synthesized definition: every Retry and Catch of every Task state has
 * its row (with whether the database changed), and every row routes as the definition does.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { StateNames } from '../../lambdas/shared/contract/contract.js';
import { LAMBDA_RETRY_ERRORS, Routing, type TaskKey } from '../../lambdas/shared/contract/routing.js';
import { type AslDefinition, definitionFromTemplate } from '../../lib/asl.js';
import { synthesize } from './support.js';

interface Row {
  readonly state: string;
  readonly errors: string[];
  /** `caught` with the state it goes to, or `retried` with its attempts. */
  readonly handling: { kind: 'caught'; next: string } | { kind: 'retried'; attempts: number };
  readonly databaseChanged: string;
}

/** The rows of the table under "## Failure table". */
function failureTable(markdown: string): Row[] {
  const section = markdown.split(/^## Failure table$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length < 6 || cells[1] === 'state' || /^-+$/.test(cells[1] ?? '')) continue;
    const [, state = '', errors = '', handling = '', databaseChanged = ''] = cells;
    const caught = /^caught → (.+)$/.exec(handling);
    const retried = /^retried, (\d+) attempts$/.exec(handling);
    if (!caught && !retried) throw new Error(`README failure table: cannot read the handling "${handling}"`);
    rows.push({
      state,
      // The error names before any parenthesis; what follows it explains them.
      errors: [...(errors.split(' (')[0] ?? '').matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? ''),
      handling: caught
        ? { kind: 'caught', next: caught[1] ?? '' }
        : { kind: 'retried', attempts: Number(retried?.[1]) },
      databaseChanged,
    });
  }
  return rows;
}

let definition: AslDefinition;
let rows: Row[];

beforeAll(() => {
  definition = definitionFromTemplate(synthesize().json).definition;
  rows = failureTable(readFileSync('README.md', 'utf8'));
});

describe("the README's failure table", () => {
  it('has a row, saying whether the database changed, for every Catch and every own Retry of every Task', () => {
    // Prepare
    const expected: string[] = [];
    for (const [name, state] of Object.entries(definition.States)) {
      if (state.Type !== 'Task') continue;
      for (const retry of state.Retry ?? []) {
        if (retry.ErrorEquals.every((error) => LAMBDA_RETRY_ERRORS.includes(error))) continue;
        expected.push(`${name} | ${[...retry.ErrorEquals].sort().join(',')} | retried ${retry.MaxAttempts}`);
      }
      for (const caught of state.Catch ?? []) {
        expected.push(`${name} | ${[...caught.ErrorEquals].sort().join(',')} | caught ${caught.Next}`);
      }
    }

    // Act
    const documented = rows.map(
      (row) =>
        `${row.state} | ${[...row.errors].sort().join(',')} | ${
          row.handling.kind === 'caught' ? `caught ${row.handling.next}` : `retried ${row.handling.attempts}`
        }`,
    );

    // Assess
    expect(documented.sort()).toEqual(expected.sort());
    for (const row of rows)
      expect(row.databaseChanged, `${row.state}: ${row.errors}`).toMatch(/^(no|yes|unknown)\b/);
  });

  it('says of each Catch what the routing table says of the database', () => {
    for (const key of Object.keys(Routing) as TaskKey[]) {
      for (const rule of Routing[key].catches) {
        const row = rows.find(
          (r) =>
            r.state === StateNames[key] &&
            r.handling.kind === 'caught' &&
            r.handling.next === StateNames[rule.next] &&
            [...r.errors].sort().join() === [...rule.errors].sort().join(),
        );
        expect(row?.databaseChanged.split(/\W/)[0], `${key} -> ${rule.next}`).toBe(rule.databaseChanged);
      }
    }
  });

  it('says the database is unchanged for every route to "Release failed, database unchanged"', () => {
    for (const row of rows.filter(
      (r) => r.handling.kind === 'caught' && r.handling.next.startsWith('Release failed'),
    )) {
      expect(row.databaseChanged, row.state).toMatch(/^no\b/);
    }
  });

  it('sends to the restore branch only rows where the release changed the database', () => {
    for (const row of rows.filter(
      (r) => r.handling.kind === 'caught' && r.handling.next === 'Is there a snapshot to restore?',
    )) {
      expect(row.databaseChanged, `${row.state}: ${row.errors}`).toMatch(/^yes\b/);
    }
  });
});
