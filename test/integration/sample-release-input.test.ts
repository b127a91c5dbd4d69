/**
 * The sample release's acknowledgements (bin/sample/release-input.ts): how they are merged into an input, and which
 * of them a run against a real database needs (the CLI adds those when it deploys the sample's own migrations).
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  pendingSampleAcknowledgements,
  SAMPLE_ACKNOWLEDGEMENTS,
  withSampleAcknowledgements,
} from '../../bin/sample/release-input.js';
import { createDatabase, dropDatabase, sampleDatabase } from '../helpers/database.js';

const SPLIT = '20250122090000_split_user_name';
const created: string[] = [];

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

describe('withSampleAcknowledgements', () => {
  it("adds the sample's acknowledgement after the input's own, keeping the other fields", () => {
    const own = {
      rule: 'drop-table',
      migration: '20250301090000_x',
      reason: 'exported to the archive first',
    };
    expect(withSampleAcknowledgements({ release: 'v2', acknowledge: [own] })).toEqual({
      release: 'v2',
      acknowledge: [own, ...SAMPLE_ACKNOWLEDGEMENTS],
    });
    expect(withSampleAcknowledgements()).toEqual({ acknowledge: SAMPLE_ACKNOWLEDGEMENTS });
  });

  it('keeps an acknowledgement the input already gives for the same rule and migration, with its reason', () => {
    const own = { rule: 'drop-column', migration: SPLIT, reason: 'our own reason for this drop' };
    expect(withSampleAcknowledgements({ acknowledge: [own] })).toEqual({ acknowledge: [own] });
  });

  it('leaves an input of another mode as it is (only a migration reads acknowledgements)', () => {
    const backup = { mode: 'backup' };
    expect(withSampleAcknowledgements(backup)).toBe(backup);
  });
});

describe('pendingSampleAcknowledgements', () => {
  it('gives the acknowledgement while its migration is pending', async () => {
    const db = await sampleDatabase('ack_pending', created);
    expect(await pendingSampleAcknowledgements(db.url)).toEqual(SAMPLE_ACKNOWLEDGEMENTS);
  });

  it('gives none once its migration is applied (it would only be a warning)', async () => {
    const db = await sampleDatabase('ack_applied', created, true);
    expect(await pendingSampleAcknowledgements(db.url)).toEqual([]);
  });

  it('gives it on an empty database, which has no migration table yet', async () => {
    const db = await createDatabase('ack_empty');
    created.push(db.name);
    expect(await pendingSampleAcknowledgements(db.url)).toEqual(SAMPLE_ACKNOWLEDGEMENTS);
  });

  it('gives none when the policy turns the rule off (the acknowledgement would match no finding, and be refused)', async () => {
    const db = await sampleDatabase('ack_off', created);
    expect(await pendingSampleAcknowledgements(db.url, { 'drop-column': 'off' })).toEqual([]);
    expect(await pendingSampleAcknowledgements(db.url, { 'drop-column': 'warn' })).toEqual(
      SAMPLE_ACKNOWLEDGEMENTS,
    );
  });
});
