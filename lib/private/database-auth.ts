/**
 * How the functions that open database sessions log in: with the password of an RDS-style secret (the
 * `credentials` prop, the default), or with an IAM authentication token (`databaseAuth: DatabaseAuth.iam(...)`),
 * signed per connection by the function's role; then no secret is read at all. Holds the prop's type, its check,
 * the functions' environment for it and the grant of each connecting step's role.
 */
import { ArnFormat, Stack, Token, Tokenization } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Allow } from './nag.js';

/** `DatabaseAuth.iam(...)`: the database user the functions log in as. */
export interface IamDatabaseAuthOptions {
  /**
   * The PostgreSQL user the functions log in as, with an IAM token instead of a password. Create it with
   * `CREATE USER migrator; GRANT rds_iam TO migrator;` and give it what `prisma migrate deploy` needs (owner of
   * the schema's objects; CREATEDB with `checkSchemaDrift`). The functions' roles may connect as this user to
   * any DB instance (or, for an Aurora target, any cluster) of the account and region: use a user name that exists
   * only on the target, e.g. `app_production_migrator` (see docs/iam.md, "IAM database authentication").
   */
  readonly username: string;
}

/**
 * How the functions log in to the target database instead of with the `credentials` secret, e.g.
 * `databaseAuth: DatabaseAuth.iam({ username: 'migrator' })`.
 */
export class DatabaseAuth {
  /**
   * IAM database authentication: each connection gets a fresh token (valid 15 minutes; a session opened with it
   * stays open past that), signed with the function's role, over TLS verified against the RDS CA. The target must
   * have IAM database authentication enabled, and `databaseName` must be given (there is no secret to read it from).
   */
  static iam(options: IamDatabaseAuthOptions): DatabaseAuth {
    return new DatabaseAuth('iam', options?.username);
  }

  private constructor(
    /** `iam`: tokens signed by the functions' roles. */
    readonly kind: 'iam',
    /** The database user (checked by the construct). */
    readonly username: string,
  ) {}
}

/** The login once checked: the secret, or the IAM user with the endpoint and database the tokens are for. */
export type ResolvedDatabaseAuth =
  | { readonly kind: 'secret'; readonly secret: secretsmanager.ISecret }
  | {
      readonly kind: 'iam';
      readonly username: string;
      /** The writer endpoint the tokens are signed for. */
      readonly host: string;
      readonly port: number;
      readonly databaseName: string;
    };

/**
 * A user name IAM and PostgreSQL both read as written: letters, digits and underscores, starting with a letter or
 * an underscore, at most 63 characters (PostgreSQL's identifier limit). No `*` or `?` (IAM patterns), `/` or `:`
 * (ARN separators), no quoting needed.
 */
const USERNAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** What the check needs of the props (a subset of MigrationOrchestratorProps). */
export interface DatabaseAuthProps {
  readonly credentials?: secretsmanager.ISecret;
  readonly databaseAuth?: DatabaseAuth;
  readonly databaseName?: string;
}

/** The target's writer endpoint (read only with IAM authentication). */
export interface TargetEndpoint {
  readonly hostname: string;
  readonly port: number;
}

/** Checks `credentials` / `databaseAuth`: exactly one way to log in, a plain user name, a database name for IAM. */
export function checkDatabaseAuth(
  props: DatabaseAuthProps,
  endpoint: () => TargetEndpoint,
): ResolvedDatabaseAuth {
  const { credentials, databaseAuth } = props;
  if (databaseAuth === undefined) {
    if (credentials === undefined) {
      throw new Error(
        'MigrationOrchestrator: the database login is missing (received neither credentials nor databaseAuth). ' +
          'Pass credentials (an RDS-style JSON secret: username, password, host, port, dbname) or ' +
          "databaseAuth: DatabaseAuth.iam({ username: 'migrator' }) for IAM database authentication.",
      );
    }
    return { kind: 'secret', secret: credentials };
  }
  if (!(databaseAuth instanceof DatabaseAuth)) {
    throw new Error(
      `MigrationOrchestrator: databaseAuth must be made with DatabaseAuth.iam({ username }), received ` +
        `${JSON.stringify(databaseAuth)}.`,
    );
  }
  if (credentials !== undefined) {
    throw new Error(
      `MigrationOrchestrator: pass either credentials (password authentication, secret ${credentials.node.path}) or ` +
        `databaseAuth (IAM database authentication as ${JSON.stringify(databaseAuth.username)}), not both. With ` +
        'DatabaseAuth.iam the functions read no secret: remove credentials, or remove databaseAuth to log in with ' +
        "the secret's password.",
    );
  }
  const { username } = databaseAuth;
  if (typeof username !== 'string' || (!Token.isUnresolved(username) && !USERNAME.test(username))) {
    throw new Error(
      'MigrationOrchestrator: databaseAuth.username must be a PostgreSQL user name of letters, digits and ' +
        'underscores, starting with a letter or an underscore, at most 63 characters (it is part of the ' +
        `rds-db:connect resource, where * and ? are patterns), received ${JSON.stringify(username)}. Pass the ` +
        "name of the user granted rds_iam, e.g. DatabaseAuth.iam({ username: 'migrator' }).",
    );
  }
  if (props.databaseName === undefined) {
    throw new Error(
      'MigrationOrchestrator: databaseName is required with databaseAuth: DatabaseAuth.iam(...) (there is no ' +
        "secret whose dbname it would default to). Pass the database to migrate, e.g. databaseName: 'app'.",
    );
  }
  const { hostname, port } = endpoint();
  return { kind: 'iam', username, host: hostname, port, databaseName: props.databaseName };
}

/**
 * The functions' environment for the login (lambdas/shared/runtime/env.ts): the secret's ARN, or
 * `DATABASE_AUTH=iam` with the user, host and port the tokens are signed for. Never a password or a token.
 */
export function databaseAuthEnvironment(auth: ResolvedDatabaseAuth): Record<string, string> {
  if (auth.kind === 'secret') return { DATABASE_SECRET_ARN: auth.secret.secretArn };
  return {
    DATABASE_AUTH: 'iam',
    DATABASE_USER: auth.username,
    DATABASE_HOST: auth.host,
    DATABASE_PORT: Tokenization.stringifyNumber(auth.port),
  };
}

/**
 * The resource prefix of the target's kind in an `rds-db:connect` ARN: a DB instance's resource id is `db-...`,
 * an Aurora cluster's `cluster-...`.
 */
const RESOURCE_ID_PREFIX = { instance: 'db-', cluster: 'cluster-' } as const;

/**
 * The reason the IAM-authentication grant names no resource id (docs/iam.md): a rollback or a restore swaps a
 * copy restored from a snapshot in under the original's identifier and endpoint, and that copy has a new resource
 * id; verify-health connects to it right after the swap, and every later execution connects to it as the target.
 */
export function iamConnectReason(username: string, kind: 'instance' | 'cluster'): string {
  return (
    `rds-db:connect as the database user ${username} only, on ${RESOURCE_ID_PREFIX[kind]}* (any ${kind === 'cluster' ? 'Aurora cluster' : 'DB instance'} ` +
    "resource id of this account and region): the workflow's own rollback and restore swap in a copy restored " +
    'from a snapshot, which keeps the endpoint but has a new resource id (verify-health connects to it right ' +
    'after the swap, later executions as the target), so a grant on the deployed resource id would lock the ' +
    'orchestrator out after its first rollback. The user must exist, with rds_iam, on the database too.'
  );
}

/**
 * Lets a connecting step's function log in: read the secret, or (IAM) `rds-db:connect` as the user, on any
 * resource id of the target's kind in this account and region (`iamConnectReason`).
 */
export function grantDatabaseLogin(
  fn: lambda.Function,
  role: iam.Role,
  auth: ResolvedDatabaseAuth,
  kind: 'instance' | 'cluster',
  allow: Allow,
): void {
  if (auth.kind === 'secret') {
    auth.secret.grantRead(fn);
    return;
  }
  allow(
    role,
    {
      sid: 'ConnectAsTheMigrationUser',
      actions: ['rds-db:connect'],
      resources: [
        Stack.of(role).formatArn({
          service: 'rds-db',
          resource: 'dbuser',
          resourceName: `${RESOURCE_ID_PREFIX[kind]}*/${auth.username}`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    },
    iamConnectReason(auth.username, kind),
  );
}
