/**
 * Temporary files of a test run stay under the run's directory, which global teardown removes: a worker killed
 * without an exit event, or a library that never cleans up (CDK's cdk.out folders), leaves nothing in /tmp.
 */
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { composeRelease } from '../../bin/sample/sample-app.js';

describe('temporary files of the test run', () => {
  it('go under the one directory of the run, for the worker and the processes it starts', async () => {
    // Prepare
    const runDir = inject('testTmpDir');

    // Act
    const release = await composeRelease('good');
    const child = execFileSync(process.execPath, ['-p', 'require("node:os").tmpdir()'], { encoding: 'utf8' });

    // Assess
    expect(basename(runDir)).toMatch(/^orchestrator-tests-/);
    expect(tmpdir()).toBe(runDir);
    expect(dirname(release)).toBe(runDir);
    expect(child.trim()).toBe(runDir);
  });
});
