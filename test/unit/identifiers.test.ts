import { describe, expect, it } from 'vitest';
import type { ExecutionInfo } from '../../lambdas/shared/contract/contract.js';
import {
  isValidRdsIdentifier,
  MAX_DB_IDENTIFIER_LENGTH,
  MAX_SNAPSHOT_IDENTIFIER_LENGTH,
  preMigrationSnapshotId,
  restoredIdentifier,
  restoredMemberIdentifier,
} from '../../lambdas/shared/domain/identifiers.js';
import { managedIdentifierPatterns } from '../../lib/private/database-permissions.js';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:execution:orchestrator';

function execution(name: string, startedAt = '2025-03-01T12:00:00.000Z'): ExecutionInfo {
  return { id: `${STATE_MACHINE}:${name}`, name, startedAt };
}

const TARGETS = ['orders-db', `a${'very-long-identifier-'.repeat(3)}x`.slice(0, MAX_DB_IDENTIFIER_LENGTH)];

describe('preMigrationSnapshotId', () => {
  it('gives Release.1 and release-1 different snapshots, although their names clean to the same words', () => {
    // Act
    const upper = preMigrationSnapshotId('orders-db', execution('Release.1'));
    const lower = preMigrationSnapshotId('orders-db', execution('release-1'));

    // Assess
    expect(upper).not.toBe(lower);
    expect(upper).toMatch(/^orders-db-premigration-release-1-[0-9a-f]{8}$/);
    expect(lower).toMatch(/^orders-db-premigration-release-1-[0-9a-f]{8}$/);
  });

  it('gives the same snapshot to every retry of one execution', () => {
    expect(preMigrationSnapshotId('orders-db', execution('release-1'))).toBe(
      preMigrationSnapshotId('orders-db', { ...execution('release-1') }),
    );
  });

  it('gives a name reused after 90 days (same execution ARN, another start time) another snapshot', () => {
    // Act
    const first = preMigrationSnapshotId('orders-db', execution('release-1', '2025-01-01T00:00:00.000Z'));
    const reused = preMigrationSnapshotId('orders-db', execution('release-1', '2025-04-15T00:00:00.000Z'));

    // Assess
    expect(reused).not.toBe(first);
  });

  it('stays a valid RDS snapshot identifier for long targets, odd names and 80-character names', () => {
    const names = ['Release.1', '--9 lives--', 'x'.repeat(80), 'ÄÖÜ', `${'a.'.repeat(40)}`];
    for (const target of TARGETS) {
      for (const name of names) {
        const id = preMigrationSnapshotId(target, execution(name));
        expect(isValidRdsIdentifier(id, MAX_SNAPSHOT_IDENTIFIER_LENGTH), id).toBe(true);
        expect(id.startsWith(`${target}-premigration-`), id).toBe(true);
      }
    }
  });
});

describe('restoredIdentifier', () => {
  it('gives Release.1 and release-1 different restored copies', () => {
    expect(restoredIdentifier('orders-db', execution('Release.1'))).not.toBe(
      restoredIdentifier('orders-db', execution('release-1')),
    );
  });

  it('gives a name reused after 90 days another restored copy, and a retry the same one', () => {
    // Prepare
    const first = execution('release-1', '2025-01-01T00:00:00.000Z');
    const reused = execution('release-1', '2025-04-15T00:00:00.000Z');

    // Act / Assess
    expect(restoredIdentifier('orders-db', reused)).not.toBe(restoredIdentifier('orders-db', first));
    expect(restoredIdentifier('orders-db', { ...first })).toBe(restoredIdentifier('orders-db', first));
  });

  it('stays a valid RDS DB identifier of at most 63 characters for long targets', () => {
    for (const target of TARGETS) {
      const id = restoredIdentifier(target, execution('Release.1'));
      expect(isValidRdsIdentifier(id, MAX_DB_IDENTIFIER_LENGTH), id).toBe(true);
    }
  });
});

describe('restoredMemberIdentifier', () => {
  it('names a member after the restored cluster and what the original member adds to its cluster', () => {
    expect(restoredMemberIdentifier('app-db-restored-1a2b3c4d', 'app-db', 'app-db-instance-1')).toBe(
      'app-db-restored-1a2b3c4d-instance-1',
    );
  });

  it('keeps the restored pattern the IAM policy names members by, however long the names', () => {
    const members = ['app-db-instance-1', `writer-${'x'.repeat(60)}`, 'r', `${'y'.repeat(63)}`];
    for (const target of [...TARGETS, 'app-db', 'a'.repeat(45), 'b'.repeat(63)]) {
      // Prepare
      const restored = restoredIdentifier(target, execution('Release.1'));
      const prefix = managedIdentifierPatterns(target).restored.replace(/\*$/, '');
      const ids = new Set<string>();
      for (const member of members) {
        // Act
        const id = restoredMemberIdentifier(restored, target, member);
        // Assess
        expect(isValidRdsIdentifier(id, MAX_DB_IDENTIFIER_LENGTH), id).toBe(true);
        expect(id.startsWith(prefix), `${id} begins with ${prefix}`).toBe(true);
        ids.add(id);
      }
      expect(ids.size).toBe(members.length);
    }
  });
});
