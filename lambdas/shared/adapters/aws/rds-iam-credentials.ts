/**
 * Database logins with IAM database authentication: no password anywhere, a token signed with the function's
 * role (`rds-db:connect`) for each connection `pg` opens. A token is valid for 15 minutes to open a session; the
 * session it opened stays open past that, so a long release keeps its connection. RDS accepts tokens over TLS
 * only: the connection verifies the server against the CA bundle the runtime trusts (NODE_EXTRA_CA_CERTS, the RDS
 * CA on Lambda), as with a secret's password.
 */
import { Signer, type SignerConfig } from '@aws-sdk/rds-signer';
import type pg from 'pg';
import { TransientFaultError } from '../../contract/errors.js';

export interface RdsIamCredentialsOptions {
  /** The writer endpoint the tokens are signed for (the one the functions connect to). */
  readonly host: string;
  readonly port: number;
  /** The database user, granted `rds_iam`. */
  readonly user: string;
  readonly database: string;
  /** @default - the runtime's (AWS_REGION) */
  readonly region?: string;
  /** @default - the SDK's default credential chain (on Lambda, the execution role's) */
  readonly credentials?: SignerConfig['credentials'];
}

export class RdsIamCredentials {
  private readonly signer: Signer;

  constructor(private readonly options: RdsIamCredentialsOptions) {
    this.signer = new Signer({
      hostname: options.host,
      port: options.port,
      username: options.user,
      ...(options.region !== undefined ? { region: options.region } : {}),
      ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    });
  }

  /**
   * `pg` settings whose password is a function: `pg` calls it for each connection it opens, so every session
   * (the engine's, the shadow database's, a fresh evidence reader's) logs in with a token of its own.
   */
  async connection(): Promise<pg.ClientConfig> {
    const { host, port, user, database } = this.options;
    return {
      host,
      port,
      user,
      database,
      password: () => this.token(),
      ssl: { rejectUnauthorized: true },
    };
  }

  /** A fresh token (`host:port/?Action=connect&DBUser=...&X-Amz-...`). Never logged, never in a message. */
  async token(): Promise<string> {
    try {
      return await this.signer.getAuthToken();
    } catch (error) {
      const { host, port, user } = this.options;
      throw new TransientFaultError(
        `Signing an IAM database authentication token for user ${user} at ${host}:${port} failed ` +
          `(${(error as Error).name}): the function has no usable AWS credentials or region. Check the ` +
          "function's execution role and AWS_REGION.",
        { cause: error },
      );
    }
  }
}
