/**
 * The RDS capability: the gateway of the configured instance or Aurora cluster. Imports only the RDS adapters
 * (and through them the RDS SDK client, bundled into the function, tree-shaken): no `pg`, parser or engine.
 */
import { RdsClusterSnapshotGateway } from '../../adapters/rds/cluster.js';
import { RdsInstanceSnapshotGateway } from '../../adapters/rds/instance.js';
import type { SnapshotGateway } from '../../contract/ports.js';
import type { SnapshotCapability } from '../capabilities.js';
import type { AwsBase } from './base.js';

let cached: SnapshotGateway | undefined;

export function rdsCapability({ env }: AwsBase): SnapshotCapability {
  return {
    gateway: async () => {
      cached ??=
        env.TARGET_KIND === 'cluster'
          ? new RdsClusterSnapshotGateway({
              clusterIdentifier: env.TARGET_IDENTIFIER,
              managedBy: env.MANAGED_BY,
            })
          : new RdsInstanceSnapshotGateway({
              instanceIdentifier: env.TARGET_IDENTIFIER,
              managedBy: env.MANAGED_BY,
            });
      return cached;
    },
  };
}
