/**
 * IAM database authentication survives a rollback or a restore: the copy restored from the snapshot is the database
 * the functions log in to right after the swap (verify-health) and in every later execution, with tokens, so it
 * must have IAM database authentication enabled as the original had.
 */
import { describe, expect, it } from 'vitest';
import { clusterRestoreInput, instanceRestoreInput } from '../../lambdas/shared/adapters/rds/settings.js';

const REQUEST = {
  snapshotId: 'orders-premigration-exec-1-0a1b2c3d',
  originalIdentifier: 'orders',
  restoredIdentifier: 'orders-restored-exec-1',
  executionId: 'exec-1',
  tags: {},
};

describe('the restored copy of a database with IAM database authentication', () => {
  it.each([true, false])(
    'an instance restore passes EnableIAMDatabaseAuthentication %s as the original has it',
    (enabled) => {
      // Act
      const input = instanceRestoreInput(
        {
          DBInstanceIdentifier: 'orders',
          DBInstanceClass: 'db.t4g.micro',
          IAMDatabaseAuthenticationEnabled: enabled,
        },
        REQUEST,
        [],
      );
      // Assess
      expect(input.EnableIAMDatabaseAuthentication).toBe(enabled);
    },
  );

  it.each([true, false])(
    'an Aurora cluster restore passes EnableIAMDatabaseAuthentication %s as the original has it',
    (enabled) => {
      // Act
      const input = clusterRestoreInput(
        {
          DBClusterIdentifier: 'orders',
          Engine: 'aurora-postgresql',
          IAMDatabaseAuthenticationEnabled: enabled,
        },
        REQUEST,
        [],
      );
      // Assess
      expect(input.EnableIAMDatabaseAuthentication).toBe(enabled);
    },
  );
});
