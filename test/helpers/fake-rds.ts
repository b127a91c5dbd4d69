/**
 * A stateful in-memory RDS, behind `aws-sdk-client-mock`, for the calls the snapshot gateways make.
 *
 * Multi-step flows run as they do on AWS, with no real waiting: time advances by one tick on every
 * Describe* call, and each transitional status lasts `ticksPerStatus` ticks.
 * - snapshots go `creating` -> `available` (the instance shows `backing-up` meanwhile);
 * - a restored instance goes `creating` -> `backing-up` -> `available`, with RDS defaults (default security
 *   group, default parameter group, single-AZ, no monitoring...) for every setting it was not given;
 * - a restored Aurora cluster goes `creating` -> `backing-up` -> `available` with NO instances, and the
 *   region's default engine version unless one is given; instances are created with CreateDBInstance;
 * - a rename (`ApplyImmediately: true`) shows `renaming` under the old identifier, then the old identifier
 *   disappears and the new one appears (still `renaming` for a while), then `available`; without
 *   `ApplyImmediately` it waits in PendingModifiedValues for a maintenance window that never comes;
 * - other modifications show `modifying`, then the values;
 * - manual snapshots are deleted at once (DeleteDB(Cluster)Snapshot), only when `available`; automated ones
 *   (seeded with `addAutomatedSnapshot`) are listed with SnapshotType `automated` and never deleted;
 * - DescribeAccountAttributes reports the manual snapshot quotas, `Used` counting the fake's manual snapshots
 *   plus `manualSnapshotsElsewhere`.
 * A snapshot's SnapshotCreateTime is the fake's clock when it was requested, reported once it is available.
 * Faults are the SDK's own classes (DBInstanceNotFoundFault, InvalidDBInstanceStateFault, ...), with the
 * validations RDS really does (states, existing identifiers, quotas, parameter combinations). Tests inject
 * more with `failNext`.
 *
 * Each database carries a `data` string that snapshots copy and restores bring back: a stand-in for its
 * contents, so that tests can tell which data serves under which identifier.
 */
import {
  type AccountQuota,
  AddRoleToDBInstanceCommand,
  type AddRoleToDBInstanceCommandInput,
  AddTagsToResourceCommand,
  type AddTagsToResourceCommandInput,
  CreateDBClusterSnapshotCommand,
  type CreateDBClusterSnapshotCommandInput,
  CreateDBInstanceCommand,
  type CreateDBInstanceCommandInput,
  CreateDBSnapshotCommand,
  type CreateDBSnapshotCommandInput,
  type DBCluster,
  DBClusterAlreadyExistsFault,
  DBClusterNotFoundFault,
  DBClusterQuotaExceededFault,
  type DBClusterSnapshot,
  DBClusterSnapshotAlreadyExistsFault,
  DBClusterSnapshotNotFoundFault,
  type DBInstance,
  DBInstanceAlreadyExistsFault,
  DBInstanceNotFoundFault,
  DBInstanceRoleAlreadyExistsFault,
  type DBSnapshot,
  DBSnapshotAlreadyExistsFault,
  DBSnapshotNotFoundFault,
  DeleteDBClusterSnapshotCommand,
  type DeleteDBClusterSnapshotCommandInput,
  DeleteDBSnapshotCommand,
  type DeleteDBSnapshotCommandInput,
  DescribeAccountAttributesCommand,
  DescribeDBClusterSnapshotsCommand,
  type DescribeDBClusterSnapshotsCommandInput,
  DescribeDBClustersCommand,
  type DescribeDBClustersCommandInput,
  DescribeDBInstancesCommand,
  type DescribeDBInstancesCommandInput,
  DescribeDBSnapshotsCommand,
  type DescribeDBSnapshotsCommandInput,
  InstanceQuotaExceededFault,
  InvalidDBClusterSnapshotStateFault,
  InvalidDBClusterStateFault,
  InvalidDBInstanceStateFault,
  InvalidDBSnapshotStateFault,
  ModifyDBClusterCommand,
  type ModifyDBClusterCommandInput,
  ModifyDBInstanceCommand,
  type ModifyDBInstanceCommandInput,
  RDSClient,
  RDSServiceException,
  RestoreDBClusterFromSnapshotCommand,
  type RestoreDBClusterFromSnapshotCommandInput,
  RestoreDBInstanceFromDBSnapshotCommand,
  type RestoreDBInstanceFromDBSnapshotCommandInput,
  SnapshotQuotaExceededFault,
  type Tag,
} from '@aws-sdk/client-rds';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';

export const FAKE_REGION = 'us-east-1';
export const FAKE_ACCOUNT = '123456789012';
/** The engine version RDS picks for an Aurora PostgreSQL restore that does not name one. */
export const FAKE_DEFAULT_AURORA_VERSION = '16.6';
/** Where the fake's default clock starts; it advances by `FAKE_TICK_MS` on every tick. */
export const FAKE_EPOCH = Date.parse('2030-01-01T00:00:00.000Z');
export const FAKE_TICK_MS = 60_000;

export type Operation =
  | 'DescribeDBInstances'
  | 'DescribeDBClusters'
  | 'DescribeDBSnapshots'
  | 'DescribeDBClusterSnapshots'
  | 'CreateDBSnapshot'
  | 'CreateDBClusterSnapshot'
  | 'RestoreDBInstanceFromDBSnapshot'
  | 'RestoreDBClusterFromSnapshot'
  | 'CreateDBInstance'
  | 'ModifyDBInstance'
  | 'ModifyDBCluster'
  | 'AddTagsToResource'
  | 'AddRoleToDBInstance'
  | 'DeleteDBSnapshot'
  | 'DeleteDBClusterSnapshot'
  | 'DescribeAccountAttributes';

/** Faults a test can inject. `not-found`, `invalid-state`, `quota-exceeded`, `already-exists` take the call's own fault class. */
export type FaultKind =
  | 'throttling'
  | 'not-found'
  | 'invalid-state'
  | 'quota-exceeded'
  | 'already-exists'
  | 'access-denied'
  | 'server-error'
  | 'timeout'
  | 'network';

export interface FakeRdsOptions {
  /** Ticks (Describe* calls) each transitional status lasts. @default 2 */
  readonly ticksPerStatus?: number;
  /** Manual snapshots allowed per kind (instance, cluster), as the account quota. @default 100 */
  readonly snapshotQuota?: number;
  /**
   * Manual snapshots of each kind that exist in the account besides the fake's (other databases'): they
   * count in the quota's `Used` and against `snapshotQuota`. @default 0
   */
  readonly manualSnapshotsElsewhere?: number;
  /** Whether DescribeAccountAttributes lists the manual snapshot quotas. @default true */
  readonly reportsSnapshotQuotas?: boolean;
  /** Records per page of DescribeDB(Cluster)Snapshots listings, at most MaxRecords (default 100). @default 100 */
  readonly pageSize?: number;
  /** The time snapshots are taken at. @default - `FAKE_EPOCH` plus `FAKE_TICK_MS` per tick */
  readonly clock?: () => Date;
  /**
   * Modify parameters RDS accepts but never reports back as set (a value it normalises differently, a
   * setting that silently does not apply). @default none
   */
  readonly ignoredModifications?: readonly string[];
  /**
   * Ticks a rename (ApplyImmediately) sits in PendingModifiedValues, status unchanged, before the status
   * becomes `renaming`. @default 0
   */
  readonly renameLagTicks?: number;
}

export interface FaultOptions {
  /** How many calls fail. @default 1 */
  readonly times?: number;
  /** Only calls whose input matches fail. */
  readonly when?: (input: Record<string, unknown>) => boolean;
}

interface Step {
  ticks: number;
  readonly run: () => void;
}

interface Timed {
  steps: Step[];
  data: string;
}

interface InstanceRecord extends Timed {
  db: DBInstance;
}

interface ClusterRecord extends Timed {
  cluster: DBCluster;
}

interface SnapshotRecord extends Timed {
  snapshot: DBSnapshot;
  /** The source instance's settings at snapshot time (what RDS keeps in a snapshot). */
  source: DBInstance;
  /** When it was requested: its SnapshotCreateTime once available. */
  takenAt: Date;
}

interface ClusterSnapshotRecord extends Timed {
  snapshot: DBClusterSnapshot;
  takenAt: Date;
}

/** What seeds an automated snapshot. */
export interface AutomatedSnapshotOptions {
  /** @default - the fake's clock */
  readonly createdAt?: Date;
  /** @default - the source's tags when it copies tags to snapshots, none otherwise */
  readonly tags?: readonly Tag[];
}

interface FaultRule {
  readonly operation: Operation;
  readonly error: () => Error;
  remaining: number;
  readonly when?: (input: Record<string, unknown>) => boolean;
}

/** Statuses in which RDS accepts a modification or a rename. */
const MODIFIABLE = new Set(['available', 'backing-up', 'storage-optimization']);

const meta = (httpStatusCode: number) => ({
  httpStatusCode,
  requestId: 'fake-request',
  attempts: 1,
  totalRetryDelay: 0,
});

function serviceError(
  name: string,
  message: string,
  httpStatusCode = 400,
  fault: 'client' | 'server' = 'client',
) {
  return new RDSServiceException({ name, $fault: fault, $metadata: meta(httpStatusCode), message });
}

function invalidParameterCombination(message: string) {
  return serviceError('InvalidParameterCombination', message);
}

function invalidParameterValue(message: string) {
  return serviceError('InvalidParameterValue', message);
}

function instanceNotFound(id: string) {
  return new DBInstanceNotFoundFault({ message: `DBInstance ${id} not found.`, $metadata: meta(404) });
}

function clusterNotFound(id: string) {
  return new DBClusterNotFoundFault({ message: `DBCluster ${id} not found.`, $metadata: meta(404) });
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function mergeTags(current: readonly Tag[] | undefined, added: readonly Tag[] | undefined): Tag[] {
  const merged = new Map<string, string>();
  for (const tag of [...(current ?? []), ...(added ?? [])]) {
    if (tag.Key !== undefined) merged.set(tag.Key, tag.Value ?? '');
  }
  return [...merged].map(([Key, Value]) => ({ Key, Value }));
}

function checkTags(tags: readonly Tag[] | undefined): void {
  const reserved = tags?.find((tag) => tag.Key?.startsWith('aws:'));
  if (reserved) throw invalidParameterValue(`Tag keys starting with "aws:" are reserved: ${reserved.Key}`);
  if ((tags?.length ?? 0) > 50)
    throw serviceError('TagQuotaPerResourceExceeded', 'At most 50 tags per resource.');
}

function onlyModelled(operation: string, input: object, modelled: readonly string[]): void {
  const unknown = Object.keys(input).filter((key) => !modelled.includes(key));
  if (unknown.length > 0) {
    throw new Error(
      `fake RDS does not model ${operation} parameters ${unknown.join(', ')}: extend test/helpers/fake-rds.ts`,
    );
  }
}

/** Where ModifyDBInstance parameters land in a DBInstance. */
const INSTANCE_MODIFY_FIELDS: Record<string, (db: DBInstance, value: unknown) => void> = {
  DBInstanceClass: (db, v) => {
    db.DBInstanceClass = v as string;
  },
  MonitoringInterval: (db, v) => {
    db.MonitoringInterval = v as number;
  },
  MonitoringRoleArn: (db, v) => {
    db.MonitoringRoleArn = v as string;
  },
  PreferredMaintenanceWindow: (db, v) => {
    db.PreferredMaintenanceWindow = (v as string).toLowerCase();
  },
  PreferredBackupWindow: (db, v) => {
    db.PreferredBackupWindow = v as string;
  },
  BackupRetentionPeriod: (db, v) => {
    db.BackupRetentionPeriod = v as number;
  },
  AutoMinorVersionUpgrade: (db, v) => {
    db.AutoMinorVersionUpgrade = v as boolean;
  },
  MaxAllocatedStorage: (db, v) => {
    db.MaxAllocatedStorage = v as number;
  },
  EnablePerformanceInsights: (db, v) => {
    db.PerformanceInsightsEnabled = v as boolean;
    if (v === true) {
      db.PerformanceInsightsRetentionPeriod ??= 7;
      db.PerformanceInsightsKMSKeyId ??= `arn:aws:kms:${FAKE_REGION}:${FAKE_ACCOUNT}:key/aws-rds-default`;
    }
  },
  PerformanceInsightsKMSKeyId: (db, v) => {
    db.PerformanceInsightsKMSKeyId = v as string;
  },
  PerformanceInsightsRetentionPeriod: (db, v) => {
    db.PerformanceInsightsRetentionPeriod = v as number;
  },
  DatabaseInsightsMode: (db, v) => {
    db.DatabaseInsightsMode = v as DBInstance['DatabaseInsightsMode'];
  },
  DeletionProtection: (db, v) => {
    db.DeletionProtection = v as boolean;
  },
  CopyTagsToSnapshot: (db, v) => {
    db.CopyTagsToSnapshot = v as boolean;
  },
  CACertificateIdentifier: (db, v) => {
    db.CACertificateIdentifier = v as string;
  },
  PubliclyAccessible: (db, v) => {
    db.PubliclyAccessible = v as boolean;
  },
};

const CLUSTER_MODIFY_FIELDS: Record<string, (cluster: DBCluster, value: unknown) => void> = {
  PreferredMaintenanceWindow: (c, v) => {
    c.PreferredMaintenanceWindow = (v as string).toLowerCase();
  },
  EnableHttpEndpoint: (c, v) => {
    c.HttpEndpointEnabled = v as boolean;
  },
  DatabaseInsightsMode: (c, v) => {
    c.DatabaseInsightsMode = v as DBCluster['DatabaseInsightsMode'];
  },
  DeletionProtection: (c, v) => {
    c.DeletionProtection = v as boolean;
  },
  BackupRetentionPeriod: (c, v) => {
    c.BackupRetentionPeriod = v as number;
  },
};

export class FakeRds {
  readonly client: RDSClient;
  readonly mock: AwsClientStub<RDSClient>;
  private readonly ticksPerStatus: number;
  private readonly snapshotQuota: number;
  private readonly manualSnapshotsElsewhere: number;
  private readonly reportsSnapshotQuotas: boolean;
  private readonly pageSize: number;
  private readonly clock: () => Date;
  private elapsedTicks = 0;
  private readonly ignoredModifications: ReadonlySet<string>;
  private readonly renameLagTicks: number;
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly clusters = new Map<string, ClusterRecord>();
  private readonly snapshots = new Map<string, SnapshotRecord>();
  private readonly clusterSnapshots = new Map<string, ClusterSnapshotRecord>();
  private readonly faults: FaultRule[] = [];
  private readonly log: { operation: Operation; input: Record<string, unknown> }[] = [];
  private sequence = 0;

  constructor(options: FakeRdsOptions = {}) {
    this.ticksPerStatus = options.ticksPerStatus ?? 2;
    this.snapshotQuota = options.snapshotQuota ?? 100;
    this.manualSnapshotsElsewhere = options.manualSnapshotsElsewhere ?? 0;
    this.reportsSnapshotQuotas = options.reportsSnapshotQuotas ?? true;
    this.pageSize = options.pageSize ?? 100;
    this.clock = options.clock ?? (() => new Date(FAKE_EPOCH + this.elapsedTicks * FAKE_TICK_MS));
    this.ignoredModifications = new Set(options.ignoredModifications ?? []);
    this.renameLagTicks = options.renameLagTicks ?? 0;
    this.client = new RDSClient({
      region: FAKE_REGION,
      credentials: { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake' },
    });
    this.mock = mockClient(this.client);
    this.mock.onAnyCommand().callsFake(() => {
      throw new Error('fake RDS does not model this command: extend test/helpers/fake-rds.ts');
    });
    const fake =
      <I extends object>(operation: Operation, impl: (input: I) => unknown) =>
      async (input: I) =>
        this.handle(operation, input, () => impl(input));
    const m = this.mock;
    m.on(DescribeDBInstancesCommand).callsFake(
      fake('DescribeDBInstances', (i: DescribeDBInstancesCommandInput) => this.describeDBInstances(i)),
    );
    m.on(DescribeDBClustersCommand).callsFake(
      fake('DescribeDBClusters', (i: DescribeDBClustersCommandInput) => this.describeDBClusters(i)),
    );
    m.on(DescribeDBSnapshotsCommand).callsFake(
      fake('DescribeDBSnapshots', (i: DescribeDBSnapshotsCommandInput) => this.describeDBSnapshots(i)),
    );
    m.on(DescribeDBClusterSnapshotsCommand).callsFake(
      fake('DescribeDBClusterSnapshots', (i: DescribeDBClusterSnapshotsCommandInput) =>
        this.describeDBClusterSnapshots(i),
      ),
    );
    m.on(CreateDBSnapshotCommand).callsFake(
      fake('CreateDBSnapshot', (i: CreateDBSnapshotCommandInput) => this.createDBSnapshot(i)),
    );
    m.on(CreateDBClusterSnapshotCommand).callsFake(
      fake('CreateDBClusterSnapshot', (i: CreateDBClusterSnapshotCommandInput) =>
        this.createDBClusterSnapshot(i),
      ),
    );
    m.on(RestoreDBInstanceFromDBSnapshotCommand).callsFake(
      fake('RestoreDBInstanceFromDBSnapshot', (i: RestoreDBInstanceFromDBSnapshotCommandInput) =>
        this.restoreDBInstanceFromDBSnapshot(i),
      ),
    );
    m.on(RestoreDBClusterFromSnapshotCommand).callsFake(
      fake('RestoreDBClusterFromSnapshot', (i: RestoreDBClusterFromSnapshotCommandInput) =>
        this.restoreDBClusterFromSnapshot(i),
      ),
    );
    m.on(CreateDBInstanceCommand).callsFake(
      fake('CreateDBInstance', (i: CreateDBInstanceCommandInput) => this.createDBInstance(i)),
    );
    m.on(ModifyDBInstanceCommand).callsFake(
      fake('ModifyDBInstance', (i: ModifyDBInstanceCommandInput) => this.modifyDBInstance(i)),
    );
    m.on(ModifyDBClusterCommand).callsFake(
      fake('ModifyDBCluster', (i: ModifyDBClusterCommandInput) => this.modifyDBCluster(i)),
    );
    m.on(AddTagsToResourceCommand).callsFake(
      fake('AddTagsToResource', (i: AddTagsToResourceCommandInput) => this.addTagsToResource(i)),
    );
    m.on(AddRoleToDBInstanceCommand).callsFake(
      fake('AddRoleToDBInstance', (i: AddRoleToDBInstanceCommandInput) => this.addRoleToDBInstance(i)),
    );
    m.on(DeleteDBSnapshotCommand).callsFake(
      fake('DeleteDBSnapshot', (i: DeleteDBSnapshotCommandInput) => this.deleteDBSnapshot(i)),
    );
    m.on(DeleteDBClusterSnapshotCommand).callsFake(
      fake('DeleteDBClusterSnapshot', (i: DeleteDBClusterSnapshotCommandInput) =>
        this.deleteDBClusterSnapshot(i),
      ),
    );
    m.on(DescribeAccountAttributesCommand).callsFake(
      fake('DescribeAccountAttributes', () => this.describeAccountAttributes()),
    );
  }

  // -------------------------------------------------------------------------------------------------------
  // Seeding and inspection (no tick)

  /** Adds an available DB instance; unspecified settings take RDS defaults. */
  addInstance(
    db: DBInstance & { DBInstanceIdentifier: string },
    data = `data of ${db.DBInstanceIdentifier}`,
  ): DBInstance {
    const id = db.DBInstanceIdentifier;
    const record: InstanceRecord = {
      db: {
        ...this.instanceDefaults(id, db.Engine ?? 'postgres', db.EngineVersion ?? '16.4'),
        DBInstanceStatus: 'available',
        ...clone(db),
      },
      steps: [],
      data,
    };
    this.instances.set(id, record);
    return clone(record.db);
  }

  /** Adds an available Aurora cluster and its instances (the first one listed is the writer). */
  addCluster(
    cluster: DBCluster & { DBClusterIdentifier: string },
    instances: readonly (DBInstance & { DBInstanceIdentifier: string })[],
    data = `data of ${cluster.DBClusterIdentifier}`,
  ): DBCluster {
    const id = cluster.DBClusterIdentifier;
    const record: ClusterRecord = {
      cluster: {
        ...this.clusterDefaults(id, cluster.Engine ?? 'aurora-postgresql', cluster.EngineVersion ?? '16.4'),
        Status: 'available',
        ...clone(cluster),
        DBClusterMembers: [],
      },
      steps: [],
      data,
    };
    this.clusters.set(id, record);
    instances.forEach((db, index) => {
      const member = this.addInstance({ Engine: record.cluster.Engine, ...db, DBClusterIdentifier: id }, '');
      record.cluster.DBClusterMembers?.push({
        DBInstanceIdentifier: member.DBInstanceIdentifier,
        IsClusterWriter: index === 0,
        PromotionTier: member.PromotionTier ?? 1,
        DBClusterParameterGroupStatus: 'in-sync',
      });
    });
    return clone(record.cluster);
  }

  instance(id: string): DBInstance | undefined {
    const record = this.instances.get(id);
    return record && clone(record.db);
  }

  cluster(id: string): DBCluster | undefined {
    const record = this.clusters.get(id);
    return record && clone(record.cluster);
  }

  /** The instances whose DBClusterIdentifier is `clusterId`. */
  clusterInstances(clusterId: string): DBInstance[] {
    return [...this.instances.values()]
      .filter((r) => r.db.DBClusterIdentifier === clusterId)
      .map((r) => clone(r.db));
  }

  snapshot(id: string): DBSnapshot | undefined {
    const record = this.snapshots.get(id);
    return record && clone(record.snapshot);
  }

  clusterSnapshot(id: string): DBClusterSnapshot | undefined {
    const record = this.clusterSnapshots.get(id);
    return record && clone(record.snapshot);
  }

  /**
   * Adds an available automated snapshot of the instance or cluster `sourceId`, named as RDS names them
   * (`rds:<source>-<yyyy-mm-dd-hh-mm>`); returns its identifier.
   */
  addAutomatedSnapshot(sourceId: string, options: AutomatedSnapshotOptions = {}): string {
    const at = options.createdAt ?? this.clock();
    const stamp = at.toISOString().slice(0, 16).replace(/[T:]/g, '-');
    const id = `rds:${sourceId}-${stamp}`;
    const cluster = this.clusters.get(sourceId)?.cluster;
    if (cluster !== undefined) {
      const snapshot: DBClusterSnapshot = {
        ...this.clusterSnapshotOf(cluster, id, at),
        Status: 'available',
        PercentProgress: 100,
        SnapshotType: 'automated',
        TagList: clone([...(options.tags ?? (cluster.CopyTagsToSnapshot ? (cluster.TagList ?? []) : []))]),
      };
      this.clusterSnapshots.set(id, { snapshot, steps: [], data: this.data(sourceId) ?? '', takenAt: at });
      return id;
    }
    const db = this.instanceRecord(sourceId).db;
    const snapshot: DBSnapshot = {
      ...this.snapshotOf(db, id, at),
      Status: 'available',
      PercentProgress: 100,
      SnapshotType: 'automated',
      TagList: clone([...(options.tags ?? (db.CopyTagsToSnapshot ? (db.TagList ?? []) : []))]),
    };
    this.snapshots.set(id, {
      snapshot,
      steps: [],
      data: this.data(sourceId) ?? '',
      source: clone(db),
      takenAt: at,
    });
    return id;
  }

  /** The fake's time now (the clock snapshots are taken by). */
  now(): Date {
    return this.clock();
  }

  /** Manual snapshots in the account, per kind, as DescribeAccountAttributes counts them. */
  manualSnapshotCount(kind: 'instance' | 'cluster'): number {
    const records = kind === 'instance' ? [...this.snapshots.values()] : [...this.clusterSnapshots.values()];
    return records.filter((r) => r.snapshot.SnapshotType === 'manual').length + this.manualSnapshotsElsewhere;
  }

  /** Identifiers of the existing instances and clusters, sorted. */
  identifiers(): { instances: string[]; clusters: string[] } {
    return { instances: [...this.instances.keys()].sort(), clusters: [...this.clusters.keys()].sort() };
  }

  /** The data of the instance or cluster under `id`. */
  data(id: string): string | undefined {
    return (this.clusters.get(id) ?? this.instances.get(id))?.data;
  }

  setData(id: string, data: string): void {
    const record = this.clusters.get(id) ?? this.instances.get(id);
    if (record === undefined) throw new Error(`fake RDS: no instance or cluster ${id}`);
    record.data = data;
  }

  /** Removes an instance at once (as if deleted outside the workflow). */
  deleteInstance(id: string): void {
    if (!this.instances.delete(id)) throw new Error(`fake RDS: no instance ${id}`);
  }

  /** Removes a cluster at once (its instances stay, as orphans, for the test to inspect). */
  deleteCluster(id: string): void {
    if (!this.clusters.delete(id)) throw new Error(`fake RDS: no cluster ${id}`);
  }

  setInstanceStatus(id: string, status: string): void {
    const record = this.instances.get(id);
    if (record === undefined) throw new Error(`fake RDS: no instance ${id}`);
    record.db.DBInstanceStatus = status;
    record.steps = [];
  }

  setClusterStatus(id: string, status: string): void {
    const record = this.clusters.get(id);
    if (record === undefined) throw new Error(`fake RDS: no cluster ${id}`);
    record.cluster.Status = status;
    record.steps = [];
  }

  setSnapshotStatus(id: string, status: string): void {
    const record = this.snapshots.get(id) ?? this.clusterSnapshots.get(id);
    if (record === undefined) throw new Error(`fake RDS: no snapshot ${id}`);
    record.snapshot.Status = status;
    record.steps = [];
  }

  /** Makes the next matching call(s) of `operation` fail with `fault`. */
  failNext(operation: Operation, fault: FaultKind | Error, options: FaultOptions = {}): void {
    this.faults.push({
      operation,
      error: typeof fault === 'string' ? () => faultFor(operation, fault) : () => fault,
      remaining: options.times ?? 1,
      ...(options.when ? { when: options.when } : {}),
    });
  }

  /** Inputs of the calls of `operation`, in order. */
  calls<I = Record<string, unknown>>(operation: Operation): I[] {
    return this.log.filter((entry) => entry.operation === operation).map((entry) => entry.input as I);
  }

  /** Operations called, in order. */
  operations(): Operation[] {
    return this.log.map((entry) => entry.operation);
  }

  /** Operations called that change something (not Describe*), in order. */
  mutations(): Operation[] {
    return this.operations().filter((operation) => !operation.startsWith('Describe'));
  }

  clearCalls(): void {
    this.log.length = 0;
  }

  /** Advances time by `ticks` ticks (each Describe* call also advances it by one). */
  tick(ticks = 1): void {
    for (let i = 0; i < ticks; i++) {
      this.elapsedTicks += 1;
      const records: Timed[] = [
        ...this.instances.values(),
        ...this.clusters.values(),
        ...this.snapshots.values(),
        ...this.clusterSnapshots.values(),
      ];
      for (const record of records) {
        const step = record.steps[0];
        if (step === undefined) continue;
        step.ticks -= 1;
        if (step.ticks <= 0) {
          record.steps.shift();
          step.run();
        }
      }
    }
  }

  /** Ticks until nothing is in transition. */
  settle(): void {
    for (let i = 0; i < 1000; i++) {
      const busy = [
        ...this.instances.values(),
        ...this.clusters.values(),
        ...this.snapshots.values(),
        ...this.clusterSnapshots.values(),
      ].some((record) => record.steps.length > 0);
      if (!busy) return;
      this.tick();
    }
    throw new Error('fake RDS did not settle');
  }

  restore(): void {
    this.mock.restore();
  }

  // -------------------------------------------------------------------------------------------------------
  // Dispatch

  private async handle(operation: Operation, input: object, impl: () => unknown): Promise<unknown> {
    const record = input as Record<string, unknown>;
    this.log.push({ operation, input: clone(record) });
    const rule = this.faults.find(
      (f) => f.operation === operation && f.remaining > 0 && (f.when?.(record) ?? true),
    );
    if (rule !== undefined) {
      rule.remaining -= 1;
      throw rule.error();
    }
    if (operation.startsWith('Describe')) this.tick();
    return impl();
  }

  private later(record: Timed, run: () => void, ticks = this.ticksPerStatus): void {
    record.steps.push({ ticks, run });
  }

  private arn(kind: 'db' | 'cluster' | 'snapshot' | 'cluster-snapshot', id: string): string {
    return `arn:aws:rds:${FAKE_REGION}:${FAKE_ACCOUNT}:${kind}:${id}`;
  }

  private nextId(prefix: string): string {
    this.sequence += 1;
    return `${prefix}-${String(this.sequence).padStart(6, '0')}FAKE`;
  }

  private instanceDefaults(id: string, engine: string, version: string): DBInstance {
    const major = version.split('.')[0];
    return {
      DBInstanceIdentifier: id,
      DBInstanceArn: this.arn('db', id),
      DbiResourceId: this.nextId('db'),
      DBInstanceClass: 'db.t3.micro',
      Engine: engine,
      EngineVersion: version,
      MasterUsername: 'postgres',
      Endpoint: {
        Address: `${id}.cfake.${FAKE_REGION}.rds.amazonaws.com`,
        Port: 5432,
        HostedZoneId: 'Z2R2ITUGPM61AM',
      },
      AllocatedStorage: 20,
      PreferredBackupWindow: '03:00-03:30',
      BackupRetentionPeriod: 1,
      VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-default', Status: 'active' }],
      DBParameterGroups: [
        { DBParameterGroupName: `default.${engine}${major}`, ParameterApplyStatus: 'in-sync' },
      ],
      AvailabilityZone: `${FAKE_REGION}a`,
      DBSubnetGroup: { DBSubnetGroupName: 'default', VpcId: 'vpc-default', SubnetGroupStatus: 'Complete' },
      PreferredMaintenanceWindow: 'sun:05:00-sun:05:30',
      PendingModifiedValues: {},
      MultiAZ: false,
      AutoMinorVersionUpgrade: true,
      LicenseModel: 'postgresql-license',
      OptionGroupMemberships: [{ OptionGroupName: `default:${engine}-${major}`, Status: 'in-sync' }],
      PubliclyAccessible: false,
      StorageType: 'gp2',
      DbInstancePort: 0,
      StorageEncrypted: false,
      CACertificateIdentifier: 'rds-ca-rsa2048-g1',
      CopyTagsToSnapshot: false,
      MonitoringInterval: 0,
      IAMDatabaseAuthenticationEnabled: false,
      PerformanceInsightsEnabled: false,
      DatabaseInsightsMode: 'standard',
      EnabledCloudwatchLogsExports: [],
      DeletionProtection: false,
      AssociatedRoles: [],
      TagList: [],
      NetworkType: 'IPV4',
      EngineLifecycleSupport: 'open-source-rds-extended-support',
    };
  }

  private clusterDefaults(id: string, engine: string, version: string): DBCluster {
    return {
      DBClusterIdentifier: id,
      DBClusterArn: this.arn('cluster', id),
      DbClusterResourceId: this.nextId('cluster'),
      Engine: engine,
      EngineVersion: version,
      EngineMode: 'provisioned',
      DBClusterParameterGroup: `default.${engine}${version.split('.')[0]}`,
      DBSubnetGroup: 'default',
      VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-default', Status: 'active' }],
      Endpoint: `${id}.cluster-cfake.${FAKE_REGION}.rds.amazonaws.com`,
      ReaderEndpoint: `${id}.cluster-ro-cfake.${FAKE_REGION}.rds.amazonaws.com`,
      Port: 5432,
      MasterUsername: 'postgres',
      BackupRetentionPeriod: 1,
      PreferredBackupWindow: '03:00-03:30',
      PreferredMaintenanceWindow: 'sun:05:00-sun:05:30',
      MultiAZ: false,
      StorageEncrypted: false,
      IAMDatabaseAuthenticationEnabled: false,
      DeletionProtection: false,
      CopyTagsToSnapshot: false,
      HttpEndpointEnabled: false,
      EnabledCloudwatchLogsExports: [],
      StorageType: 'aurora',
      NetworkType: 'IPV4',
      AssociatedRoles: [],
      DBClusterMembers: [],
      TagList: [],
      EngineLifecycleSupport: 'open-source-rds-extended-support',
    };
  }

  private findInstanceByArn(arn: string): InstanceRecord | undefined {
    return [...this.instances.values()].find((record) => record.db.DBInstanceArn === arn);
  }

  private instanceRecord(id: string | undefined): InstanceRecord {
    const record = id === undefined ? undefined : this.instances.get(id);
    if (record === undefined) throw instanceNotFound(id ?? '');
    return record;
  }

  private clusterRecord(id: string | undefined): ClusterRecord {
    const record = id === undefined ? undefined : this.clusters.get(id);
    if (record === undefined) throw clusterNotFound(id ?? '');
    return record;
  }

  // -------------------------------------------------------------------------------------------------------
  // Describe

  private describeDBInstances(input: DescribeDBInstancesCommandInput) {
    if (input.DBInstanceIdentifier !== undefined) {
      return { DBInstances: [clone(this.instanceRecord(input.DBInstanceIdentifier).db)] };
    }
    let records = [...this.instances.values()];
    for (const filter of input.Filters ?? []) {
      if (filter.Name !== 'db-cluster-id')
        throw new Error(`fake RDS does not model the filter ${filter.Name}`);
      records = records.filter(
        (r) =>
          r.db.DBClusterIdentifier !== undefined && (filter.Values ?? []).includes(r.db.DBClusterIdentifier),
      );
    }
    return { DBInstances: records.map((r) => clone(r.db)) };
  }

  private describeDBClusters(input: DescribeDBClustersCommandInput) {
    if (input.Filters !== undefined) throw new Error('fake RDS does not model DescribeDBClusters filters');
    if (input.DBClusterIdentifier !== undefined) {
      return { DBClusters: [clone(this.clusterRecord(input.DBClusterIdentifier).cluster)] };
    }
    return { DBClusters: [...this.clusters.values()].map((r) => clone(r.cluster)) };
  }

  private describeDBSnapshots(input: DescribeDBSnapshotsCommandInput) {
    if (input.DBSnapshotIdentifier !== undefined) {
      const record = this.snapshots.get(input.DBSnapshotIdentifier);
      if (record === undefined) {
        throw new DBSnapshotNotFoundFault({
          message: `DBSnapshot ${input.DBSnapshotIdentifier} not found.`,
          $metadata: meta(404),
        });
      }
      return { DBSnapshots: [clone(record.snapshot)] };
    }
    onlyModelled('DescribeDBSnapshots', input, [
      'DBInstanceIdentifier',
      'SnapshotType',
      'MaxRecords',
      'Marker',
    ]);
    const all = [...this.snapshots.values()].map((r) => r.snapshot);
    const matching = all.filter(
      (s) =>
        (input.DBInstanceIdentifier === undefined ||
          s.DBInstanceIdentifier === input.DBInstanceIdentifier.toLowerCase()) &&
        (input.SnapshotType === undefined || s.SnapshotType === input.SnapshotType),
    );
    const { page, marker } = this.paginate(matching, (s) => s.DBSnapshotIdentifier ?? '', input);
    return { DBSnapshots: page.map(clone), ...(marker ? { Marker: marker } : {}) };
  }

  private describeDBClusterSnapshots(input: DescribeDBClusterSnapshotsCommandInput) {
    if (input.DBClusterSnapshotIdentifier !== undefined) {
      const record = this.clusterSnapshots.get(input.DBClusterSnapshotIdentifier);
      if (record === undefined) {
        throw new DBClusterSnapshotNotFoundFault({
          message: `DBClusterSnapshot ${input.DBClusterSnapshotIdentifier} not found.`,
          $metadata: meta(404),
        });
      }
      return { DBClusterSnapshots: [clone(record.snapshot)] };
    }
    onlyModelled('DescribeDBClusterSnapshots', input, [
      'DBClusterIdentifier',
      'SnapshotType',
      'MaxRecords',
      'Marker',
    ]);
    const all = [...this.clusterSnapshots.values()].map((r) => r.snapshot);
    const matching = all.filter(
      (s) =>
        (input.DBClusterIdentifier === undefined ||
          s.DBClusterIdentifier === input.DBClusterIdentifier.toLowerCase()) &&
        (input.SnapshotType === undefined || s.SnapshotType === input.SnapshotType),
    );
    const { page, marker } = this.paginate(matching, (s) => s.DBClusterSnapshotIdentifier ?? '', input);
    return { DBClusterSnapshots: page.map(clone), ...(marker ? { Marker: marker } : {}) };
  }

  /**
   * One page of `items` in identifier order (RDS promises no order; this one is not the creation order, so a
   * caller that needs it must sort), from `Marker`, of at most MaxRecords (20 to 100) and `pageSize` items.
   */
  private paginate<T>(
    items: readonly T[],
    idOf: (item: T) => string,
    input: { MaxRecords?: number | undefined; Marker?: string | undefined },
  ): { page: T[]; marker: string | undefined } {
    const max = input.MaxRecords ?? 100;
    if (max < 20 || max > 100) {
      throw invalidParameterValue(`MaxRecords must be between 20 and 100, not ${max}.`);
    }
    let start = 0;
    if (input.Marker !== undefined) {
      const match = /^fake-marker-(\d+)$/.exec(input.Marker);
      if (!match) throw invalidParameterValue(`Invalid marker: ${input.Marker}`);
      start = Number(match[1]);
    }
    const sorted = [...items].sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
    const end = start + Math.min(max, this.pageSize);
    return { page: sorted.slice(start, end), marker: end < sorted.length ? `fake-marker-${end}` : undefined };
  }

  private describeAccountAttributes() {
    const quotas: AccountQuota[] = [
      { AccountQuotaName: 'DBInstances', Used: this.instances.size, Max: 40 },
      { AccountQuotaName: 'DBClusters', Used: this.clusters.size, Max: 40 },
      {
        AccountQuotaName: 'AllocatedStorage',
        Used: [...this.instances.values()].reduce((sum, r) => sum + (r.db.AllocatedStorage ?? 0), 0),
        Max: 100_000,
      },
    ];
    if (this.reportsSnapshotQuotas) {
      quotas.push(
        {
          AccountQuotaName: 'ManualSnapshots',
          Used: this.manualSnapshotCount('instance'),
          Max: this.snapshotQuota,
        },
        {
          AccountQuotaName: 'ManualClusterSnapshots',
          Used: this.manualSnapshotCount('cluster'),
          Max: this.snapshotQuota,
        },
      );
    }
    return { AccountQuotas: quotas };
  }

  // -------------------------------------------------------------------------------------------------------
  // Snapshots

  private createDBSnapshot(input: CreateDBSnapshotCommandInput) {
    const record = this.instanceRecord(input.DBInstanceIdentifier);
    const db = record.db;
    if (db.DBClusterIdentifier) {
      throw invalidParameterValue(
        'The specified instance is a member of a cluster and a snapshot cannot be created directly. Please use the CreateDBClusterSnapshot API instead.',
      );
    }
    const id = input.DBSnapshotIdentifier ?? '';
    if (this.snapshots.has(id)) {
      throw new DBSnapshotAlreadyExistsFault({
        message: `Cannot create the snapshot because a snapshot with the identifier ${id} already exists.`,
        $metadata: meta(400),
      });
    }
    if (!['available', 'storage-optimization'].includes(db.DBInstanceStatus ?? '')) {
      throw new InvalidDBInstanceStateFault({
        message: `Cannot create a snapshot because the database instance ${db.DBInstanceIdentifier} is not currently in the available state.`,
        $metadata: meta(400),
      });
    }
    if (this.manualSnapshotCount('instance') >= this.snapshotQuota) {
      throw new SnapshotQuotaExceededFault({
        message: 'Cannot create more than 100 manual snapshots',
        $metadata: meta(400),
      });
    }
    checkTags(input.Tags);
    const takenAt = this.clock();
    const snapshot: DBSnapshot = {
      ...this.snapshotOf(db, id, takenAt),
      // RDS reports SnapshotCreateTime once the snapshot is available.
      SnapshotCreateTime: undefined,
      TagList: input.Tags?.length ? clone(input.Tags) : db.CopyTagsToSnapshot ? clone(db.TagList ?? []) : [],
    };
    const snapshotRecord: SnapshotRecord = {
      snapshot,
      steps: [],
      data: record.data,
      source: clone(db),
      takenAt,
    };
    this.snapshots.set(id, snapshotRecord);
    const previous = db.DBInstanceStatus;
    db.DBInstanceStatus = 'backing-up';
    this.later(snapshotRecord, () => {
      snapshot.Status = 'available';
      snapshot.PercentProgress = 100;
      snapshot.SnapshotCreateTime = new Date(takenAt);
      if (db.DBInstanceStatus === 'backing-up') db.DBInstanceStatus = previous;
    });
    return { DBSnapshot: clone(snapshot) };
  }

  /** A manual DB snapshot of `db` being created (its tags and creation time are the caller's). */
  private snapshotOf(db: DBInstance, id: string, takenAt: Date): DBSnapshot {
    return {
      DBSnapshotIdentifier: id,
      DBSnapshotArn: this.arn('snapshot', id),
      DBInstanceIdentifier: db.DBInstanceIdentifier,
      DbiResourceId: db.DbiResourceId,
      SnapshotCreateTime: new Date(takenAt),
      Engine: db.Engine,
      EngineVersion: db.EngineVersion,
      AllocatedStorage: db.AllocatedStorage,
      Status: 'creating',
      Port: db.Endpoint?.Port,
      AvailabilityZone: db.AvailabilityZone,
      VpcId: db.DBSubnetGroup?.VpcId,
      MasterUsername: db.MasterUsername,
      SnapshotType: 'manual',
      StorageType: db.StorageType,
      Iops: db.Iops,
      StorageThroughput: db.StorageThroughput,
      OptionGroupName: db.OptionGroupMemberships?.[0]?.OptionGroupName,
      Encrypted: db.StorageEncrypted,
      KmsKeyId: db.KmsKeyId,
      IAMDatabaseAuthenticationEnabled: db.IAMDatabaseAuthenticationEnabled,
      PercentProgress: 0,
      TagList: [],
    };
  }

  private createDBClusterSnapshot(input: CreateDBClusterSnapshotCommandInput) {
    const record = this.clusterRecord(input.DBClusterIdentifier);
    const cluster = record.cluster;
    const id = input.DBClusterSnapshotIdentifier ?? '';
    if (this.clusterSnapshots.has(id)) {
      throw new DBClusterSnapshotAlreadyExistsFault({
        message: `Cannot create the cluster snapshot because one with the identifier ${id} already exists.`,
        $metadata: meta(400),
      });
    }
    if (cluster.Status !== 'available') {
      throw new InvalidDBClusterStateFault({
        message: `DBCluster ${cluster.DBClusterIdentifier} is not in the available state.`,
        $metadata: meta(400),
      });
    }
    if (this.manualSnapshotCount('cluster') >= this.snapshotQuota) {
      throw new SnapshotQuotaExceededFault({
        message: 'Cannot create more than 100 manual cluster snapshots',
        $metadata: meta(400),
      });
    }
    checkTags(input.Tags);
    const takenAt = this.clock();
    const snapshot: DBClusterSnapshot = {
      ...this.clusterSnapshotOf(cluster, id, takenAt),
      // RDS reports SnapshotCreateTime once the snapshot is available.
      SnapshotCreateTime: undefined,
      TagList: input.Tags?.length
        ? clone(input.Tags)
        : cluster.CopyTagsToSnapshot
          ? clone(cluster.TagList ?? [])
          : [],
    };
    const snapshotRecord: ClusterSnapshotRecord = { snapshot, steps: [], data: record.data, takenAt };
    this.clusterSnapshots.set(id, snapshotRecord);
    this.later(snapshotRecord, () => {
      snapshot.Status = 'available';
      snapshot.PercentProgress = 100;
      snapshot.SnapshotCreateTime = new Date(takenAt);
    });
    return { DBClusterSnapshot: clone(snapshot) };
  }

  /** A manual DB cluster snapshot of `cluster` being created (its tags and creation time are the caller's). */
  private clusterSnapshotOf(cluster: DBCluster, id: string, takenAt: Date): DBClusterSnapshot {
    return {
      DBClusterSnapshotIdentifier: id,
      DBClusterSnapshotArn: this.arn('cluster-snapshot', id),
      DBClusterIdentifier: cluster.DBClusterIdentifier,
      SnapshotCreateTime: new Date(takenAt),
      Engine: cluster.Engine,
      EngineMode: cluster.EngineMode,
      EngineVersion: cluster.EngineVersion,
      AllocatedStorage: 1,
      Status: 'creating',
      Port: cluster.Port,
      VpcId: 'vpc-default',
      MasterUsername: cluster.MasterUsername,
      SnapshotType: 'manual',
      PercentProgress: 0,
      StorageEncrypted: cluster.StorageEncrypted,
      KmsKeyId: cluster.KmsKeyId,
      IAMDatabaseAuthenticationEnabled: cluster.IAMDatabaseAuthenticationEnabled,
      StorageType: cluster.StorageType,
      DbClusterResourceId: cluster.DbClusterResourceId,
      TagList: [],
    };
  }

  /**
   * DeleteDBSnapshot: only a manual snapshot in the `available` state (the API reference: "The DB snapshot
   * must be in the available state to be deleted"); it is gone at once, the answer says `deleted`.
   */
  private deleteDBSnapshot(input: DeleteDBSnapshotCommandInput) {
    const id = input.DBSnapshotIdentifier ?? '';
    const record = this.snapshots.get(id);
    if (record === undefined) {
      throw new DBSnapshotNotFoundFault({ message: `DBSnapshot ${id} not found.`, $metadata: meta(404) });
    }
    this.checkDeletable(record.snapshot, id, 'instance');
    this.snapshots.delete(id);
    return { DBSnapshot: { ...clone(record.snapshot), Status: 'deleted' } };
  }

  private deleteDBClusterSnapshot(input: DeleteDBClusterSnapshotCommandInput) {
    const id = input.DBClusterSnapshotIdentifier ?? '';
    const record = this.clusterSnapshots.get(id);
    if (record === undefined) {
      throw new DBClusterSnapshotNotFoundFault({
        message: `DBClusterSnapshot ${id} not found.`,
        $metadata: meta(404),
      });
    }
    this.checkDeletable(record.snapshot, id, 'cluster');
    this.clusterSnapshots.delete(id);
    return { DBClusterSnapshot: { ...clone(record.snapshot), Status: 'deleted' } };
  }

  /** The fake's own words: RDS's exact message for these refusals is not modelled. */
  private checkDeletable(
    snapshot: { Status?: string | undefined; SnapshotType?: string | undefined },
    id: string,
    kind: 'instance' | 'cluster',
  ): void {
    const invalid = (message: string) =>
      kind === 'instance'
        ? new InvalidDBSnapshotStateFault({ message, $metadata: meta(400) })
        : new InvalidDBClusterSnapshotStateFault({ message, $metadata: meta(400) });
    if (snapshot.SnapshotType !== 'manual') {
      throw invalid(`Only manual snapshots may be deleted; ${id} is ${snapshot.SnapshotType}.`);
    }
    if (snapshot.Status !== 'available') {
      throw invalid(`Snapshot ${id} is not in the available state (${snapshot.Status}).`);
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Restores

  private restoreDBInstanceFromDBSnapshot(input: RestoreDBInstanceFromDBSnapshotCommandInput) {
    onlyModelled('RestoreDBInstanceFromDBSnapshot', input, [
      'DBInstanceIdentifier',
      'DBSnapshotIdentifier',
      'DBInstanceClass',
      'DBSubnetGroupName',
      'VpcSecurityGroupIds',
      'DBParameterGroupName',
      'OptionGroupName',
      'MultiAZ',
      'AvailabilityZone',
      'StorageType',
      'AllocatedStorage',
      'Iops',
      'StorageThroughput',
      'Port',
      'PubliclyAccessible',
      'EnableIAMDatabaseAuthentication',
      'DeletionProtection',
      'CopyTagsToSnapshot',
      'EnableCloudwatchLogsExports',
      'CACertificateIdentifier',
      'AutoMinorVersionUpgrade',
      'BackupRetentionPeriod',
      'PreferredBackupWindow',
      'NetworkType',
      'EngineLifecycleSupport',
      'Domain',
      'DomainIAMRoleName',
      'DomainFqdn',
      'DomainOu',
      'DomainAuthSecretArn',
      'DomainDnsIps',
      'LicenseModel',
      'Tags',
    ]);
    const snapshotId = input.DBSnapshotIdentifier ?? '';
    const snapshotRecord = this.snapshots.get(snapshotId);
    if (snapshotRecord === undefined) {
      throw new DBSnapshotNotFoundFault({
        message: `DBSnapshot ${snapshotId} not found.`,
        $metadata: meta(404),
      });
    }
    if (snapshotRecord.snapshot.Status !== 'available') {
      throw new InvalidDBSnapshotStateFault({
        message: `Snapshot ${snapshotId} is not in the available state.`,
        $metadata: meta(400),
      });
    }
    const id = input.DBInstanceIdentifier ?? '';
    if (this.instances.has(id)) {
      throw new DBInstanceAlreadyExistsFault({
        message: `DB instance already exists: ${id}`,
        $metadata: meta(400),
      });
    }
    if (this.instances.size >= 40) {
      throw new InstanceQuotaExceededFault({ message: 'DB instance quota exceeded', $metadata: meta(400) });
    }
    if (input.MultiAZ && input.AvailabilityZone !== undefined) {
      throw invalidParameterCombination(
        'Requesting a specific availability zone is not valid for Multi-AZ instances.',
      );
    }
    const source = snapshotRecord.source;
    const storageType = input.StorageType ?? 'gp2';
    const allocated = input.AllocatedStorage ?? snapshotRecord.snapshot.AllocatedStorage ?? 20;
    if (allocated < (snapshotRecord.snapshot.AllocatedStorage ?? 0)) {
      throw invalidParameterValue("The allocated storage must be at least the snapshot's.");
    }
    this.checkStorage(storageType, allocated, input.Iops, input.StorageThroughput);
    checkTags(input.Tags);
    const base = this.instanceDefaults(id, source.Engine ?? 'postgres', source.EngineVersion ?? '16.4');
    const domain =
      input.Domain !== undefined || input.DomainFqdn !== undefined
        ? [
            {
              Domain: input.Domain,
              IAMRoleName: input.DomainIAMRoleName,
              FQDN: input.DomainFqdn,
              OU: input.DomainOu,
              AuthSecretArn: input.DomainAuthSecretArn,
              DnsIps: input.DomainDnsIps,
              Status: 'joined',
            },
          ]
        : [];
    const db: DBInstance = {
      ...base,
      DBInstanceStatus: 'creating',
      // RDS's default class for a restore is the snapshot's source instance's.
      DBInstanceClass: input.DBInstanceClass ?? source.DBInstanceClass,
      MasterUsername: source.MasterUsername,
      AllocatedStorage: allocated,
      Endpoint: { ...base.Endpoint, Port: input.Port ?? snapshotRecord.snapshot.Port ?? 5432 },
      DBSubnetGroup: { ...base.DBSubnetGroup, DBSubnetGroupName: input.DBSubnetGroupName ?? 'default' },
      VpcSecurityGroups: (input.VpcSecurityGroupIds ?? ['sg-default']).map((id) => ({
        VpcSecurityGroupId: id,
        Status: 'active',
      })),
      DBParameterGroups: input.DBParameterGroupName
        ? [{ DBParameterGroupName: input.DBParameterGroupName, ParameterApplyStatus: 'in-sync' }]
        : base.DBParameterGroups,
      OptionGroupMemberships: input.OptionGroupName
        ? [{ OptionGroupName: input.OptionGroupName, Status: 'in-sync' }]
        : base.OptionGroupMemberships,
      MultiAZ: input.MultiAZ ?? false,
      AvailabilityZone: input.AvailabilityZone ?? base.AvailabilityZone,
      SecondaryAvailabilityZone: input.MultiAZ ? `${FAKE_REGION}b` : undefined,
      StorageType: storageType,
      Iops: input.Iops ?? (storageType === 'gp3' ? 3000 : undefined),
      StorageThroughput: input.StorageThroughput ?? (storageType === 'gp3' ? 125 : undefined),
      PubliclyAccessible: input.PubliclyAccessible ?? false,
      IAMDatabaseAuthenticationEnabled: input.EnableIAMDatabaseAuthentication ?? false,
      DeletionProtection: input.DeletionProtection ?? false,
      CopyTagsToSnapshot: input.CopyTagsToSnapshot ?? false,
      EnabledCloudwatchLogsExports: input.EnableCloudwatchLogsExports ?? [],
      CACertificateIdentifier: input.CACertificateIdentifier ?? base.CACertificateIdentifier,
      AutoMinorVersionUpgrade: input.AutoMinorVersionUpgrade ?? true,
      BackupRetentionPeriod: input.BackupRetentionPeriod ?? source.BackupRetentionPeriod ?? 1,
      PreferredBackupWindow: input.PreferredBackupWindow ?? base.PreferredBackupWindow,
      NetworkType: input.NetworkType ?? 'IPV4',
      EngineLifecycleSupport: input.EngineLifecycleSupport ?? base.EngineLifecycleSupport,
      LicenseModel: input.LicenseModel ?? base.LicenseModel,
      StorageEncrypted: snapshotRecord.snapshot.Encrypted ?? false,
      KmsKeyId: snapshotRecord.snapshot.KmsKeyId,
      DomainMemberships: domain,
      TagList: clone(input.Tags ?? []),
    };
    const record: InstanceRecord = { db, steps: [], data: snapshotRecord.data };
    this.instances.set(id, record);
    this.later(record, () => {
      db.DBInstanceStatus = 'backing-up';
    });
    this.later(record, () => {
      db.DBInstanceStatus = 'available';
    });
    return { DBInstance: clone(db) };
  }

  private checkStorage(storageType: string, allocated: number, iops?: number, throughput?: number): void {
    if (storageType === 'gp3' && (iops !== undefined || throughput !== undefined) && allocated < 400) {
      throw invalidParameterCombination(
        `You can't specify IOPS or storage throughput for engine postgres and a storage size less than 400.`,
      );
    }
    if ((storageType === 'io1' || storageType === 'io2') && iops === undefined) {
      throw invalidParameterCombination(`Specify IOPS for storage type ${storageType}.`);
    }
    if ((storageType === 'gp2' || storageType === 'standard') && iops !== undefined) {
      throw invalidParameterCombination(`Invalid storage type for IOPS: ${storageType}`);
    }
    if (throughput !== undefined && storageType !== 'gp3') {
      throw invalidParameterCombination('Storage throughput is supported only for gp3 storage.');
    }
  }

  private restoreDBClusterFromSnapshot(input: RestoreDBClusterFromSnapshotCommandInput) {
    onlyModelled('RestoreDBClusterFromSnapshot', input, [
      'DBClusterIdentifier',
      'SnapshotIdentifier',
      'Engine',
      'EngineVersion',
      'DBClusterParameterGroupName',
      'DBSubnetGroupName',
      'VpcSecurityGroupIds',
      'KmsKeyId',
      'EnableIAMDatabaseAuthentication',
      'ServerlessV2ScalingConfiguration',
      'EnableCloudwatchLogsExports',
      'Port',
      'DeletionProtection',
      'CopyTagsToSnapshot',
      'StorageType',
      'BackupRetentionPeriod',
      'PreferredBackupWindow',
      'NetworkType',
      'EngineLifecycleSupport',
      'Domain',
      'DomainIAMRoleName',
      'AssociatedRoles',
      'MonitoringInterval',
      'MonitoringRoleArn',
      'EnablePerformanceInsights',
      'PerformanceInsightsKMSKeyId',
      'PerformanceInsightsRetentionPeriod',
      'Tags',
    ]);
    const snapshotId = input.SnapshotIdentifier ?? '';
    const snapshotRecord = this.clusterSnapshots.get(snapshotId);
    if (snapshotRecord === undefined) {
      throw new DBClusterSnapshotNotFoundFault({
        message: `DBClusterSnapshot ${snapshotId} not found.`,
        $metadata: meta(404),
      });
    }
    if (snapshotRecord.snapshot.Status !== 'available') {
      throw new InvalidDBClusterSnapshotStateFault({
        message: `Snapshot ${snapshotId} is not available.`,
        $metadata: meta(400),
      });
    }
    const id = input.DBClusterIdentifier ?? '';
    if (this.clusters.has(id)) {
      throw new DBClusterAlreadyExistsFault({
        message: `DB Cluster already exists: ${id}`,
        $metadata: meta(400),
      });
    }
    if (this.clusters.size >= 40) {
      throw new DBClusterQuotaExceededFault({ message: 'DB cluster quota exceeded', $metadata: meta(400) });
    }
    if (input.Engine !== snapshotRecord.snapshot.Engine) {
      throw invalidParameterValue(
        `The engine ${input.Engine} does not match the snapshot's engine ${snapshotRecord.snapshot.Engine}.`,
      );
    }
    if ((input.MonitoringInterval ?? 0) > 0 && input.MonitoringRoleArn === undefined) {
      throw invalidParameterCombination(
        'A MonitoringRoleARN value is required if you specify a MonitoringInterval value other than 0.',
      );
    }
    checkTags(input.Tags);
    const version = input.EngineVersion ?? FAKE_DEFAULT_AURORA_VERSION;
    const base = this.clusterDefaults(id, input.Engine ?? 'aurora-postgresql', version);
    const cluster: DBCluster = {
      ...base,
      Status: 'creating',
      DBClusterParameterGroup: input.DBClusterParameterGroupName ?? base.DBClusterParameterGroup,
      DBSubnetGroup: input.DBSubnetGroupName ?? 'default',
      VpcSecurityGroups: (input.VpcSecurityGroupIds ?? ['sg-default']).map((sg) => ({
        VpcSecurityGroupId: sg,
        Status: 'active',
      })),
      StorageEncrypted: snapshotRecord.snapshot.StorageEncrypted ?? false,
      KmsKeyId: input.KmsKeyId ?? snapshotRecord.snapshot.KmsKeyId,
      IAMDatabaseAuthenticationEnabled: input.EnableIAMDatabaseAuthentication ?? false,
      ServerlessV2ScalingConfiguration: input.ServerlessV2ScalingConfiguration
        ? clone(input.ServerlessV2ScalingConfiguration)
        : undefined,
      EnabledCloudwatchLogsExports: input.EnableCloudwatchLogsExports ?? [],
      Port: input.Port ?? 5432,
      DeletionProtection: input.DeletionProtection ?? false,
      CopyTagsToSnapshot: input.CopyTagsToSnapshot ?? false,
      StorageType: input.StorageType ?? 'aurora',
      BackupRetentionPeriod: input.BackupRetentionPeriod ?? 1,
      PreferredBackupWindow: input.PreferredBackupWindow ?? base.PreferredBackupWindow,
      NetworkType: input.NetworkType ?? 'IPV4',
      EngineLifecycleSupport: input.EngineLifecycleSupport ?? base.EngineLifecycleSupport,
      DomainMemberships: input.Domain
        ? [{ Domain: input.Domain, IAMRoleName: input.DomainIAMRoleName, Status: 'joined' }]
        : [],
      AssociatedRoles: (input.AssociatedRoles ?? []).map((role) => ({ ...role, Status: 'ACTIVE' })),
      MonitoringInterval: input.MonitoringInterval,
      MonitoringRoleArn: input.MonitoringRoleArn,
      PerformanceInsightsEnabled: input.EnablePerformanceInsights,
      PerformanceInsightsKMSKeyId: input.PerformanceInsightsKMSKeyId,
      PerformanceInsightsRetentionPeriod: input.PerformanceInsightsRetentionPeriod,
      TagList: clone(input.Tags ?? []),
    };
    const record: ClusterRecord = { cluster, steps: [], data: snapshotRecord.data };
    this.clusters.set(id, record);
    this.later(record, () => {
      cluster.Status = 'backing-up';
    });
    this.later(record, () => {
      cluster.Status = 'available';
    });
    return { DBCluster: clone(cluster) };
  }

  private createDBInstance(input: CreateDBInstanceCommandInput) {
    onlyModelled('CreateDBInstance', input, [
      'DBInstanceIdentifier',
      'DBClusterIdentifier',
      'Engine',
      'DBInstanceClass',
      'DBParameterGroupName',
      'PromotionTier',
      'AvailabilityZone',
      'PubliclyAccessible',
      'AutoMinorVersionUpgrade',
      'PreferredMaintenanceWindow',
      'CACertificateIdentifier',
      'MonitoringInterval',
      'MonitoringRoleArn',
      'EnablePerformanceInsights',
      'PerformanceInsightsKMSKeyId',
      'PerformanceInsightsRetentionPeriod',
      'Tags',
    ]);
    if (input.DBClusterIdentifier === undefined) {
      throw new Error('fake RDS models CreateDBInstance for Aurora cluster members only');
    }
    const clusterRecord = this.clusterRecord(input.DBClusterIdentifier);
    const cluster = clusterRecord.cluster;
    if (!MODIFIABLE.has(cluster.Status ?? '')) {
      throw new InvalidDBClusterStateFault({
        message: `DB cluster ${cluster.DBClusterIdentifier} is not in the available state (${cluster.Status}).`,
        $metadata: meta(400),
      });
    }
    const id = input.DBInstanceIdentifier ?? '';
    if (this.instances.has(id)) {
      throw new DBInstanceAlreadyExistsFault({
        message: `DB instance already exists: ${id}`,
        $metadata: meta(400),
      });
    }
    if (input.Engine !== cluster.Engine) {
      throw invalidParameterCombination(
        `The engine ${input.Engine} does not match the cluster's engine ${cluster.Engine}.`,
      );
    }
    if (input.DBInstanceClass === 'db.serverless' && cluster.ServerlessV2ScalingConfiguration === undefined) {
      throw invalidParameterCombination(
        'Set the Serverless v2 scaling configuration on the parent DB cluster before creating a Serverless v2 DB instance.',
      );
    }
    if ((input.MonitoringInterval ?? 0) > 0 && input.MonitoringRoleArn === undefined) {
      throw invalidParameterCombination(
        'A MonitoringRoleARN value is required if you specify a MonitoringInterval value other than 0.',
      );
    }
    checkTags(input.Tags);
    const base = this.instanceDefaults(
      id,
      cluster.Engine ?? 'aurora-postgresql',
      cluster.EngineVersion ?? '16.4',
    );
    const insights = input.EnablePerformanceInsights ?? false;
    const db: DBInstance = {
      ...base,
      DBInstanceStatus: 'creating',
      DBClusterIdentifier: cluster.DBClusterIdentifier,
      DBInstanceClass: input.DBInstanceClass,
      DBParameterGroups: input.DBParameterGroupName
        ? [{ DBParameterGroupName: input.DBParameterGroupName, ParameterApplyStatus: 'in-sync' }]
        : base.DBParameterGroups,
      PromotionTier: input.PromotionTier ?? 1,
      AvailabilityZone: input.AvailabilityZone ?? `${FAKE_REGION}c`,
      PubliclyAccessible: input.PubliclyAccessible ?? false,
      AutoMinorVersionUpgrade: input.AutoMinorVersionUpgrade ?? true,
      PreferredMaintenanceWindow:
        input.PreferredMaintenanceWindow?.toLowerCase() ?? base.PreferredMaintenanceWindow,
      CACertificateIdentifier: input.CACertificateIdentifier ?? base.CACertificateIdentifier,
      MonitoringInterval: input.MonitoringInterval ?? 0,
      MonitoringRoleArn: input.MonitoringRoleArn,
      PerformanceInsightsEnabled: insights,
      PerformanceInsightsKMSKeyId: insights ? input.PerformanceInsightsKMSKeyId : undefined,
      PerformanceInsightsRetentionPeriod: insights
        ? (input.PerformanceInsightsRetentionPeriod ?? 7)
        : undefined,
      StorageType: 'aurora',
      AllocatedStorage: 1,
      OptionGroupMemberships: [],
      DBSubnetGroup: {
        DBSubnetGroupName: cluster.DBSubnetGroup,
        VpcId: 'vpc-default',
        SubnetGroupStatus: 'Complete',
      },
      VpcSecurityGroups: clone(cluster.VpcSecurityGroups),
      TagList: clone(input.Tags ?? []),
    };
    const record: InstanceRecord = { db, steps: [], data: '' };
    this.instances.set(id, record);
    const members = cluster.DBClusterMembers ?? [];
    members.push({
      DBInstanceIdentifier: id,
      IsClusterWriter: !members.some((m) => m.IsClusterWriter),
      PromotionTier: db.PromotionTier,
      DBClusterParameterGroupStatus: 'in-sync',
    });
    cluster.DBClusterMembers = members;
    this.later(record, () => {
      db.DBInstanceStatus = 'available';
    });
    return { DBInstance: clone(db) };
  }

  // -------------------------------------------------------------------------------------------------------
  // Modifications and renames

  private modifyDBInstance(input: ModifyDBInstanceCommandInput) {
    const { DBInstanceIdentifier: id, NewDBInstanceIdentifier: newId, ApplyImmediately, ...settings } = input;
    onlyModelled('ModifyDBInstance', settings, Object.keys(INSTANCE_MODIFY_FIELDS));
    const record = this.instanceRecord(id);
    const db = record.db;
    if (!MODIFIABLE.has(db.DBInstanceStatus ?? '')) {
      throw new InvalidDBInstanceStateFault({
        message: 'Database instance is not in available state.',
        $metadata: meta(400),
      });
    }
    if (newId !== undefined && Object.keys(settings).length > 0) {
      throw new Error('fake RDS does not model a rename combined with other modifications');
    }
    if (newId !== undefined) {
      if (db.PendingModifiedValues?.DBInstanceIdentifier !== undefined) {
        throw new InvalidDBInstanceStateFault({
          message: `Database instance ${id} already has a pending rename.`,
          $metadata: meta(400),
        });
      }
      if (this.instances.has(newId) || this.pendingInstanceRename(newId)) {
        throw new DBInstanceAlreadyExistsFault({
          message: `DB instance already exists: ${newId}`,
          $metadata: meta(400),
        });
      }
      if (!ApplyImmediately) {
        db.PendingModifiedValues = { ...db.PendingModifiedValues, DBInstanceIdentifier: newId };
        return { DBInstance: clone(db) };
      }
      const oldId = db.DBInstanceIdentifier ?? '';
      record.steps = []; // The rename supersedes what the instance was doing (backing-up...).
      db.PendingModifiedValues = { ...db.PendingModifiedValues, DBInstanceIdentifier: newId };
      this.startRenaming(record, () => {
        db.DBInstanceStatus = 'renaming';
      });
      const response = clone(db);
      this.later(record, () => {
        this.instances.delete(oldId);
        this.instances.set(newId, record);
        db.DBInstanceIdentifier = newId;
        db.DBInstanceArn = this.arn('db', newId);
        if (db.Endpoint) db.Endpoint.Address = `${newId}.cfake.${FAKE_REGION}.rds.amazonaws.com`;
        const { DBInstanceIdentifier: _, ...rest } = db.PendingModifiedValues ?? {};
        db.PendingModifiedValues = rest;
        if (db.DBClusterIdentifier) {
          const members = this.clusters.get(db.DBClusterIdentifier)?.cluster.DBClusterMembers ?? [];
          for (const member of members)
            if (member.DBInstanceIdentifier === oldId) member.DBInstanceIdentifier = newId;
        }
      });
      this.later(record, () => {
        db.DBInstanceStatus = 'available';
      });
      return { DBInstance: response };
    }
    if (
      (settings.MonitoringInterval ?? 0) > 0 &&
      (settings.MonitoringRoleArn ?? db.MonitoringRoleArn) === undefined
    ) {
      throw invalidParameterCombination(
        'A MonitoringRoleARN value is required if you specify a MonitoringInterval value other than 0.',
      );
    }
    if (!ApplyImmediately) {
      (db as { pendingSettings?: unknown }).pendingSettings = settings;
      return { DBInstance: clone(db) };
    }
    db.DBInstanceStatus = 'modifying';
    record.steps = []; // The modification supersedes what the instance was doing (backing-up...).
    this.later(record, () => {
      for (const [key, value] of Object.entries(settings)) {
        if (value !== undefined && !this.ignoredModifications.has(key))
          INSTANCE_MODIFY_FIELDS[key]?.(db, value);
      }
      db.DBInstanceStatus = 'available';
    });
    return { DBInstance: clone(db) };
  }

  /** The status turns `renaming` at once, or after `renameLagTicks` with the rename listed as pending. */
  private startRenaming(record: Timed, toRenaming: () => void): void {
    if (this.renameLagTicks > 0) this.later(record, toRenaming, this.renameLagTicks);
    else toRenaming();
  }

  private pendingInstanceRename(newId: string): boolean {
    return [...this.instances.values()].some(
      (r) => r.db.PendingModifiedValues?.DBInstanceIdentifier === newId,
    );
  }

  private modifyDBCluster(input: ModifyDBClusterCommandInput) {
    const { DBClusterIdentifier: id, NewDBClusterIdentifier: newId, ApplyImmediately, ...settings } = input;
    onlyModelled('ModifyDBCluster', settings, Object.keys(CLUSTER_MODIFY_FIELDS));
    const record = this.clusterRecord(id);
    const cluster = record.cluster;
    if (!MODIFIABLE.has(cluster.Status ?? '')) {
      throw new InvalidDBClusterStateFault({
        message: `DB cluster ${id} is not in the available state (${cluster.Status}).`,
        $metadata: meta(400),
      });
    }
    if (newId !== undefined && Object.keys(settings).length > 0) {
      throw new Error('fake RDS does not model a rename combined with other modifications');
    }
    if (newId !== undefined) {
      if (cluster.PendingModifiedValues?.DBClusterIdentifier !== undefined) {
        throw new InvalidDBClusterStateFault({
          message: `DB cluster ${id} already has a pending rename.`,
          $metadata: meta(400),
        });
      }
      const pending = [...this.clusters.values()].some(
        (r) => r.cluster.PendingModifiedValues?.DBClusterIdentifier === newId,
      );
      if (this.clusters.has(newId) || pending) {
        throw new DBClusterAlreadyExistsFault({
          message: `DB Cluster already exists: ${newId}`,
          $metadata: meta(400),
        });
      }
      if (!ApplyImmediately) {
        cluster.PendingModifiedValues = { ...cluster.PendingModifiedValues, DBClusterIdentifier: newId };
        return { DBCluster: clone(cluster) };
      }
      const oldId = cluster.DBClusterIdentifier ?? '';
      record.steps = [];
      cluster.PendingModifiedValues = { ...cluster.PendingModifiedValues, DBClusterIdentifier: newId };
      this.startRenaming(record, () => {
        cluster.Status = 'renaming';
      });
      const response = clone(cluster);
      this.later(record, () => {
        this.clusters.delete(oldId);
        this.clusters.set(newId, record);
        cluster.DBClusterIdentifier = newId;
        cluster.DBClusterArn = this.arn('cluster', newId);
        cluster.Endpoint = `${newId}.cluster-cfake.${FAKE_REGION}.rds.amazonaws.com`;
        cluster.ReaderEndpoint = `${newId}.cluster-ro-cfake.${FAKE_REGION}.rds.amazonaws.com`;
        const { DBClusterIdentifier: _, ...rest } = cluster.PendingModifiedValues ?? {};
        cluster.PendingModifiedValues = rest;
        for (const instance of this.instances.values()) {
          if (instance.db.DBClusterIdentifier === oldId) instance.db.DBClusterIdentifier = newId;
        }
      });
      this.later(record, () => {
        cluster.Status = 'available';
      });
      return { DBCluster: response };
    }
    if (!ApplyImmediately) {
      (cluster as { pendingSettings?: unknown }).pendingSettings = settings;
      return { DBCluster: clone(cluster) };
    }
    cluster.Status = 'modifying';
    record.steps = [];
    this.later(record, () => {
      for (const [key, value] of Object.entries(settings)) {
        if (value !== undefined && !this.ignoredModifications.has(key))
          CLUSTER_MODIFY_FIELDS[key]?.(cluster, value);
      }
      cluster.Status = 'available';
    });
    return { DBCluster: clone(cluster) };
  }

  private addTagsToResource(input: AddTagsToResourceCommandInput) {
    checkTags(input.Tags);
    const arn = input.ResourceName ?? '';
    const instance = this.findInstanceByArn(arn);
    if (instance !== undefined) {
      instance.db.TagList = mergeTags(instance.db.TagList, input.Tags);
      return {};
    }
    const cluster = [...this.clusters.values()].find((r) => r.cluster.DBClusterArn === arn);
    if (cluster !== undefined) {
      cluster.cluster.TagList = mergeTags(cluster.cluster.TagList, input.Tags);
      return {};
    }
    if (arn.includes(':cluster:')) throw clusterNotFound(arn);
    throw instanceNotFound(arn);
  }

  private addRoleToDBInstance(input: AddRoleToDBInstanceCommandInput) {
    const record = this.instanceRecord(input.DBInstanceIdentifier);
    if (!MODIFIABLE.has(record.db.DBInstanceStatus ?? '')) {
      throw new InvalidDBInstanceStateFault({
        message: 'Database instance is not in available state.',
        $metadata: meta(400),
      });
    }
    const roles = record.db.AssociatedRoles ?? [];
    if (roles.some((role) => role.RoleArn === input.RoleArn && role.FeatureName === input.FeatureName)) {
      throw new DBInstanceRoleAlreadyExistsFault({
        message: `Role ${input.RoleArn} is already associated.`,
        $metadata: meta(400),
      });
    }
    roles.push({ RoleArn: input.RoleArn, FeatureName: input.FeatureName, Status: 'ACTIVE' });
    record.db.AssociatedRoles = roles;
    return {};
  }
}

/** The error AWS gives for `kind` on `operation` (the SDK's own fault classes where RDS has one). */
export function faultFor(operation: Operation, kind: FaultKind): Error {
  const clusterish = /Cluster/.test(operation);
  switch (kind) {
    case 'throttling':
      return serviceError('Throttling', 'Rate exceeded', 400);
    case 'server-error':
      return serviceError(
        'InternalFailure',
        'An internal error has occurred. Try your request again.',
        500,
        'server',
      );
    case 'access-denied':
      return serviceError(
        'AccessDenied',
        `User: arn:aws:sts::${FAKE_ACCOUNT}:assumed-role/fn is not authorized to perform: rds:${operation}`,
        403,
      );
    case 'timeout':
      return Object.assign(new Error('Connection timed out after 30000 ms'), {
        name: 'TimeoutError',
        code: 'ETIMEDOUT',
        $metadata: {},
      });
    case 'network':
      return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} });
    case 'not-found': {
      if (
        operation === 'DescribeDBSnapshots' ||
        operation === 'RestoreDBInstanceFromDBSnapshot' ||
        operation === 'DeleteDBSnapshot'
      ) {
        return new DBSnapshotNotFoundFault({ message: 'DBSnapshot not found.', $metadata: meta(404) });
      }
      if (
        operation === 'DescribeDBClusterSnapshots' ||
        operation === 'RestoreDBClusterFromSnapshot' ||
        operation === 'DeleteDBClusterSnapshot'
      ) {
        return new DBClusterSnapshotNotFoundFault({
          message: 'DBClusterSnapshot not found.',
          $metadata: meta(404),
        });
      }
      return clusterish || operation === 'CreateDBInstance'
        ? clusterNotFound('(injected)')
        : instanceNotFound('(injected)');
    }
    case 'invalid-state': {
      if (operation === 'DeleteDBSnapshot') {
        return new InvalidDBSnapshotStateFault({
          message: 'Cannot delete the snapshot because it is in use.',
          $metadata: meta(400),
        });
      }
      if (operation === 'DeleteDBClusterSnapshot') {
        return new InvalidDBClusterSnapshotStateFault({
          message: 'Cannot delete the cluster snapshot because it is in use.',
          $metadata: meta(400),
        });
      }
      if (operation === 'RestoreDBInstanceFromDBSnapshot') {
        return new InvalidDBSnapshotStateFault({
          message: 'Snapshot is not in the available state.',
          $metadata: meta(400),
        });
      }
      if (operation === 'RestoreDBClusterFromSnapshot') {
        return new InvalidDBClusterSnapshotStateFault({
          message: 'Snapshot is not available.',
          $metadata: meta(400),
        });
      }
      return clusterish || operation === 'CreateDBInstance'
        ? new InvalidDBClusterStateFault({
            message: 'DB cluster is not in the available state.',
            $metadata: meta(400),
          })
        : new InvalidDBInstanceStateFault({
            message: 'Database instance is not in available state.',
            $metadata: meta(400),
          });
    }
    case 'quota-exceeded': {
      if (operation === 'CreateDBSnapshot' || operation === 'CreateDBClusterSnapshot') {
        return new SnapshotQuotaExceededFault({
          message: 'Cannot create more than 100 manual snapshots',
          $metadata: meta(400),
        });
      }
      if (operation === 'RestoreDBClusterFromSnapshot') {
        return new DBClusterQuotaExceededFault({
          message: 'DB cluster quota exceeded',
          $metadata: meta(400),
        });
      }
      return new InstanceQuotaExceededFault({ message: 'DB instance quota exceeded', $metadata: meta(400) });
    }
    case 'already-exists': {
      if (operation === 'CreateDBSnapshot') {
        return new DBSnapshotAlreadyExistsFault({
          message: 'Snapshot already exists.',
          $metadata: meta(400),
        });
      }
      if (operation === 'CreateDBClusterSnapshot') {
        return new DBClusterSnapshotAlreadyExistsFault({
          message: 'Cluster snapshot already exists.',
          $metadata: meta(400),
        });
      }
      return clusterish
        ? new DBClusterAlreadyExistsFault({ message: 'DB Cluster already exists.', $metadata: meta(400) })
        : new DBInstanceAlreadyExistsFault({ message: 'DB instance already exists.', $metadata: meta(400) });
    }
  }
}
