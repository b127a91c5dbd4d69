/**
 * The local runner's workflow from the definition cache (`loadWorkflow`): a hit is the definition the synthesis
 * gave, a run that hits loads no aws-cdk-lib, and nothing is stored when the inputs changed during the synthesis.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCachedWorkflow } from '../../lib/local/definition-cache.js';
import { loadWorkflow, type SynthesizedWorkflow } from '../../lib/local/runner.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const KEY = 'a'.repeat(64);
let dir: string;
let synthesized: SynthesizedWorkflow & { from: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'workflow-cache-'));
  synthesized = await loadWorkflow('release', { dir, key: () => KEY });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadWorkflow', () => {
  it('synthesizes on a miss and stores the result under its key', () => {
    expect(synthesized.from).toBe('synthesis');
    expect(readdirSync(dir)).toEqual([`${KEY}.json`]);
    expect(Object.keys(synthesized.definition.States).length).toBeGreaterThan(10);
  });

  it('returns on a hit the identical definition and Task steps', async () => {
    const hit = await loadWorkflow('release', { dir, key: () => KEY });
    expect(hit.from).toBe('cache');
    expect(hit.definition).toEqual(synthesized.definition);
    expect(JSON.stringify(hit.definition)).toBe(JSON.stringify(synthesized.definition));
    expect([...hit.taskSteps]).toEqual([...synthesized.taskSteps]);
  });

  it('reads an entry for its own key only: another key, a renamed or a damaged entry miss', () => {
    expect(readCachedWorkflow(dir, 'b'.repeat(64))).toBeUndefined();
    const other = join(dir, `${'c'.repeat(64)}.json`);
    renameSync(join(dir, `${KEY}.json`), other);
    try {
      expect(readCachedWorkflow(dir, 'c'.repeat(64))).toBeUndefined();
    } finally {
      renameSync(other, join(dir, `${KEY}.json`));
    }
    const damaged = join(dir, `${'d'.repeat(64)}.json`);
    writeFileSync(damaged, '{"key":"dddd');
    expect(readCachedWorkflow(dir, 'd'.repeat(64))).toBeUndefined();
    rmSync(damaged);
    expect(readCachedWorkflow(dir, KEY)?.definition).toEqual(synthesized.definition);
  });

  it('stores nothing when the inputs changed during the synthesis', async () => {
    const changing = mkdtempSync(join(tmpdir(), 'workflow-cache-changing-'));
    try {
      let calls = 0;
      const result = await loadWorkflow('per-migration', {
        dir: changing,
        key: () => `${++calls}`.padStart(64, '0'),
      });
      expect(result.from).toBe('synthesis');
      expect(calls).toBe(2);
      expect(readdirSync(changing)).toEqual([]);
    } finally {
      rmSync(changing, { recursive: true, force: true });
    }
  });

  it('loads no aws-cdk-lib on a hit (and does on a synthesis: the check sees it)', async () => {
    // A fresh process: whether aws-cdk-lib (CommonJS) is among the modules loaded after a hit, then after a synthesis.
    const script = `
      import { createRequire } from 'node:module';
      import { loadWorkflow, synthesizeWorkflow } from ${JSON.stringify(join(ROOT, 'lib/local/runner.ts'))};
      const cdkLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/aws-cdk-lib/'));
      const hit = await loadWorkflow('release', { dir: ${JSON.stringify(dir)}, key: () => ${JSON.stringify(KEY)} });
      const afterHit = cdkLoaded();
      await synthesizeWorkflow('release');
      console.log(JSON.stringify({ from: hit.from, afterHit, afterSynthesis: cdkLoaded() }));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: ROOT, timeout: 120_000 },
    );
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')).toEqual({
      from: 'cache',
      afterHit: false,
      afterSynthesis: true,
    });
  });
});
