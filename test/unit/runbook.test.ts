import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutcomeErrors, RUNBOOK } from '../../lambdas/shared/contract/contract.js';
import { AlarmNames } from '../../lib/private/alarms.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function runbookHeadings(): Set<string> {
  return new Set(
    readFileSync(RUNBOOK, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('## '))
      .map((line) => line.slice(3).trim()),
  );
}

describe('the runbook', () => {
  it('has one article per way an execution ends, titled with its error', () => {
    const headings = runbookHeadings();
    for (const outcome of Object.values(OutcomeErrors)) expect(headings.has(outcome), outcome).toBe(true);
  });

  it('has one article per alarm, titled with its name', () => {
    const headings = runbookHeadings();
    for (const alarm of Object.values(AlarmNames)) expect(headings.has(alarm), alarm).toBe(true);
  });

  it('is only ever named with its article, in every message of the product', () => {
    const vague: string[] = [];
    for (const file of ['lambdas', 'lib', 'bin'].flatMap(sources)) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, index) => {
          if (/see (?:the )?"?runbook"?(?![^)]*")/i.test(line) && !line.includes('runbookArticle('))
            vague.push(`${file}:${index + 1}: ${line.trim()}`);
        });
    }
    expect(vague).toEqual([]);
  });
});

describe('OutcomeErrors', () => {
  it('has keys equal to their values (the error a caller sees is the name the code uses)', () => {
    for (const [key, value] of Object.entries(OutcomeErrors)) expect(key).toBe(value);
  });
});
