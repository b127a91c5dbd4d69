/**
 * IAM database authentication (`databaseAuth: DatabaseAuth.iam(...)`): what the functions may do and what their
 * environment says, and the prop checks. The password login (`credentials`) is covered by iam.test.ts.
 */
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { type Step, Steps } from '../../lambdas/shared/contract/contract.js';
import { STEP_METADATA_KEY } from '../../lib/asl.js';
import { DatabaseAuth, RDS_CA_BUNDLE } from '../../lib/orchestrator.js';
import { STEP_PROFILES } from '../../lib/private/step-profiles.js';
import { stackPropsFromContext } from '../../lib/stack.js';
import { flat, orchestrate, synthesize } from './support.js';

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

/** The context that switches the example stack to IAM database authentication as `migrator` on database `app`. */
const IAM_AUTH_CONTEXT = { secretArn: null, databaseUser: 'migrator', databaseName: 'app' };

const CONNECTING: readonly Step[] = Steps.filter((step) => STEP_PROFILES[step].connects);

function list<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** Every statement of every policy, by role (a step's name, or the logical id of any other role). */
function statementsByRole(resources: Record<string, Resource>): Map<string, Statement[]> {
  const stepOfRole = new Map<string, string>();
  for (const fn of Object.values(resources)) {
    if (fn.Type !== 'AWS::Lambda::Function') continue;
    const role = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    stepOfRole.set(role, (fn.Metadata?.[STEP_METADATA_KEY] as string | undefined) ?? 'report');
  }
  const byRole = new Map<string, Statement[]>();
  for (const policy of Object.values(resources)) {
    if (policy.Type !== 'AWS::IAM::Policy') continue;
    const ref = (policy.Properties.Roles as { Ref: string }[])[0]?.Ref as string;
    const key = stepOfRole.get(ref) ?? ref;
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    byRole.set(key, [...(byRole.get(key) ?? []), ...statements]);
  }
  return byRole;
}

function environments(resources: Record<string, Resource>): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const fn of Object.values(resources)) {
    const step = fn.Metadata?.[STEP_METADATA_KEY] as string | undefined;
    if (fn.Type !== 'AWS::Lambda::Function' || !step) continue;
    out.set(step, (fn.Properties.Environment as { Variables: Record<string, string> }).Variables);
  }
  return out;
}

describe.each([
  ['instance', 'db-*'],
  ['cluster', 'cluster-*'],
] as const)('IAM database authentication, %s target', (targetKind, resourceIds) => {
  const { json } = synthesize({ targetKind, context: IAM_AUTH_CONTEXT });
  const resources = json.Resources as Record<string, Resource>;
  const byRole = statementsByRole(resources);

  it(`lets exactly the steps that connect log in as the user, with rds-db:connect on dbuser:${resourceIds}/migrator`, () => {
    // Assess
    for (const [role, statements] of byRole) {
      const connects = statements.filter((s) => list(s.Action).some((a) => a.startsWith('rds-db:')));
      if (!CONNECTING.includes(role as Step)) {
        expect(connects, role).toEqual([]);
        continue;
      }
      expect(
        connects.map((s) => ({ sid: s.Sid, actions: list(s.Action), resources: list(s.Resource).map(flat) })),
        role,
      ).toEqual([
        {
          sid: 'ConnectAsTheMigrationUser',
          actions: ['rds-db:connect'],
          resources: [
            `arn:<AWS::Partition>:rds-db:<AWS::Region>:<AWS::AccountId>:dbuser:${resourceIds}/migrator`,
          ],
        },
      ]);
      expect(connects[0]?.Condition, role).toBeUndefined();
    }
    expect(CONNECTING).toEqual(['preflight', 'apply-migrations', 'assess-release', 'verify-health']);
  });

  it('grants nothing of Secrets Manager, to any role', () => {
    // Assess
    const actions = [...byRole.values()].flat().flatMap((s) => list(s.Action));
    expect(actions.filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    expect(JSON.stringify(json)).not.toContain('secretsmanager');
  });

  it('gives the functions the user, the endpoint and the database, and no secret ARN', () => {
    // Assess
    const envs = environments(resources);
    expect([...envs.keys()].sort()).toEqual([...Steps].sort());
    for (const [step, variables] of envs) {
      expect(variables, step).toMatchObject({
        DATABASE_AUTH: 'iam',
        DATABASE_USER: 'migrator',
        DATABASE_HOST: expect.stringMatching(/\.rds\.amazonaws\.com$/),
        DATABASE_PORT: '5432',
        DATABASE_NAME: 'app',
        // TLS is verified against the RDS CA bundle: RDS takes tokens over TLS only.
        NODE_EXTRA_CA_CERTS: RDS_CA_BUNDLE,
      });
      expect(variables, step).not.toHaveProperty('DATABASE_SECRET_ARN');
    }
  });
});

describe('DatabaseAuth.iam on a bare stack', () => {
  it('signs for the writer endpoint of the cluster given, and names the cluster resource ids', () => {
    // Act
    const { stack } = orchestrate(({ cluster }) => ({
      instance: undefined,
      cluster,
      credentials: undefined,
      databaseAuth: DatabaseAuth.iam({ username: 'app_aurora_migrator' }),
      databaseName: 'orders',
    }));
    // Assess
    const template = JSON.stringify(App.of(stack)?.synth().getStackByName(stack.stackName).template);
    expect(template).toContain(
      '"DATABASE_HOST":"app-aurora.cluster-c1a2b3c4d5e6.us-east-1.rds.amazonaws.com"',
    );
    expect(template).toContain('dbuser:cluster-*/app_aurora_migrator');
  });

  it('keeps the password login as it was when databaseAuth is not given', () => {
    // Act
    const { stack } = orchestrate(() => ({}));
    const template = JSON.stringify(App.of(stack)?.synth().getStackByName(stack.stackName).template);
    // Assess
    expect(template).toContain('secretsmanager:GetSecretValue');
    expect(template).not.toContain('rds-db:connect');
    expect(template).not.toContain('DATABASE_AUTH');
  });
});

describe('databaseAuth checks', () => {
  const iam = (username: string) => DatabaseAuth.iam({ username });

  it('fails when both credentials and databaseAuth are given, naming both', () => {
    expect(() => orchestrate(() => ({ databaseAuth: iam('migrator'), databaseName: 'app' }))).toThrow(
      /pass either credentials .* or databaseAuth .*not both/,
    );
  });

  it('fails when neither credentials nor databaseAuth is given', () => {
    expect(() => orchestrate(() => ({ credentials: undefined }))).toThrow(
      /received neither credentials nor databaseAuth.*DatabaseAuth\.iam/,
    );
  });

  it.each([
    ['empty', ''],
    ['an IAM pattern', 'migr*tor'],
    ['an ARN separator', 'db/migrator'],
    ['quoted', '"migrator"'],
    ['starting with a digit', '1migrator'],
    ['longer than 63 characters', 'm'.repeat(64)],
  ])('fails when the user name is %s, naming databaseAuth.username and the value', (_case, username) => {
    expect(() =>
      orchestrate(() => ({ credentials: undefined, databaseAuth: iam(username), databaseName: 'app' })),
    ).toThrow(
      expect.objectContaining({
        message: expect.stringContaining(`databaseAuth.username must be a PostgreSQL user name`),
      }),
    );
    expect(() =>
      orchestrate(() => ({ credentials: undefined, databaseAuth: iam(username), databaseName: 'app' })),
    ).toThrow(`received ${JSON.stringify(username)}.`);
  });

  it('fails when databaseName is missing: there is no secret to read dbname from', () => {
    expect(() => orchestrate(() => ({ credentials: undefined, databaseAuth: iam('migrator') }))).toThrow(
      /databaseName is required with databaseAuth/,
    );
  });

  it('fails when databaseAuth is not made with DatabaseAuth.iam', () => {
    expect(() =>
      orchestrate(() => ({
        credentials: undefined,
        databaseAuth: { kind: 'iam', username: 'migrator' } as unknown as DatabaseAuth,
        databaseName: 'app',
      })),
    ).toThrow(/databaseAuth must be made with DatabaseAuth\.iam/);
  });

  it('accepts a user name of letters, digits and underscores', () => {
    expect(() =>
      orchestrate(() => ({ credentials: undefined, databaseAuth: iam('_app_2'), databaseName: 'app' })),
    ).not.toThrow();
  });
});

describe('the example stack context', () => {
  const contextOf = (context: Record<string, unknown>) => {
    const app = new App({ context: { ...baseContext, ...context } });
    return () => stackPropsFromContext(app);
  };
  const baseContext = {
    targetKind: 'instance',
    targetIdentifier: 'app-production',
    endpoint: 'app-production.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com',
    port: 5432,
    securityGroupId: 'sg-0123456789abcdef0',
    secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app-production/database-AbCdEf',
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a'],
    privateSubnetIds: ['subnet-0123456789abcdef0'],
  };

  it('fails when databaseUser and secretArn are both set', () => {
    expect(contextOf({ databaseUser: 'migrator', databaseName: 'app' })).toThrow(
      /databaseUser .* and secretArn are both set/,
    );
  });

  it('logs in with IAM when databaseUser is set and secretArn is not', () => {
    const props = contextOf({ ...IAM_AUTH_CONTEXT })();
    expect(props.database).toMatchObject({ databaseUser: 'migrator', databaseName: 'app' });
    expect(props.database).not.toHaveProperty('secretArn');
  });
});
