/**
 * The SnapshotGateway contract, run against both RDS gateways on the stateful fake RDS.
 */
import { RdsClusterSnapshotGateway } from '../../lambdas/shared/adapters/rds/cluster.js';
import { RdsInstanceSnapshotGateway } from '../../lambdas/shared/adapters/rds/instance.js';
import {
  describeSnapshotGatewayContract,
  type SnapshotGatewayContractFixture,
} from '../contract/snapshot-gateway.contract.js';
import { FakeRds } from '../helpers/fake-rds.js';

function fixtureOn(
  fake: FakeRds,
  gateway: RdsInstanceSnapshotGateway | RdsClusterSnapshotGateway,
): SnapshotGatewayContractFixture {
  return {
    gateway,
    advance: async () => fake.tick(),
    teardown: async () => fake.restore(),
    data: {
      read: async (identifier) => fake.data(identifier),
      write: async (identifier, value) => fake.setData(identifier, value),
    },
  };
}

describeSnapshotGatewayContract('RdsInstanceSnapshotGateway on the fake RDS', async () => {
  const fake = new FakeRds();
  fake.addInstance({
    DBInstanceIdentifier: 'app-db',
    DBInstanceClass: 'db.m6g.large',
    StorageType: 'gp3',
    AllocatedStorage: 100,
  });
  return fixtureOn(
    fake,
    new RdsInstanceSnapshotGateway({ instanceIdentifier: 'app-db', client: fake.client }),
  );
});

describeSnapshotGatewayContract('RdsClusterSnapshotGateway on the fake RDS', async () => {
  const fake = new FakeRds();
  fake.addCluster(
    {
      DBClusterIdentifier: 'app-cluster',
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 8 },
    },
    [
      { DBInstanceIdentifier: 'app-cluster-writer', DBInstanceClass: 'db.r6g.large', PromotionTier: 0 },
      { DBInstanceIdentifier: 'app-cluster-reader', DBInstanceClass: 'db.serverless', PromotionTier: 1 },
    ],
  );
  return fixtureOn(
    fake,
    new RdsClusterSnapshotGateway({ clusterIdentifier: 'app-cluster', client: fake.client }),
  );
});
