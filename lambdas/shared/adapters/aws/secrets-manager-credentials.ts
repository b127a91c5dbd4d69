/**
 * Database credentials from Secrets Manager (an RDS-style JSON secret: username, password, host, port,
 * dbname), read at run time and cached for a few minutes so a rotation is picked up. The value never
 * leaves this module except as the `pg` connection settings.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type pg from 'pg';
import { InvalidInputError, TransientFaultError } from '../../contract/errors.js';

/** The fields of an RDS-style secret this adapter uses. */
interface RdsSecret {
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly dbname?: string;
}

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== '';

/**
 * The secret's fields, or undefined when it is not an RDS-style secret (a port may be a number or a numeric
 * string, as RDS writes it; 5432 when absent). Checked by hand: the apply step's cold start pays for every
 * library it loads.
 */
function rdsSecretOf(text: string | undefined): RdsSecret | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const { username, password, host, port, dbname } = value as Record<string, unknown>;
  if (!nonEmpty(username) || !nonEmpty(password) || !nonEmpty(host)) return undefined;
  const portNumber = port === undefined || port === null || port === '' ? 5432 : Number(port);
  if (!Number.isInteger(portNumber) || portNumber <= 0) return undefined;
  if (dbname !== undefined && !nonEmpty(dbname)) return undefined;
  return { username, password, host, port: portNumber, ...(dbname === undefined ? {} : { dbname }) };
}

export interface SecretsManagerCredentialsOptions {
  readonly secretArn: string;
  /** Overrides the secret's `dbname`. */
  readonly databaseName?: string;
  readonly client?: SecretsManagerClient;
  /** @default 5 minutes */
  readonly cacheTtlMs?: number;
  readonly now?: () => number;
}

const TRANSIENT = new Set(['ThrottlingException', 'InternalServiceError', 'TimeoutError', 'RequestTimeout']);

export class SecretsManagerCredentials {
  private readonly client: SecretsManagerClient;
  private cached?: { config: pg.ClientConfig; at: number };

  constructor(private readonly options: SecretsManagerCredentialsOptions) {
    this.client = options.client ?? new SecretsManagerClient({});
  }

  /** `pg` settings with TLS verified against the CA bundle the runtime trusts (NODE_EXTRA_CA_CERTS). */
  async connection(): Promise<pg.ClientConfig> {
    const now = (this.options.now ?? Date.now)();
    if (this.cached && now - this.cached.at < (this.options.cacheTtlMs ?? 300_000)) return this.cached.config;
    let secretString: string | undefined;
    try {
      const response = await this.client.send(
        new GetSecretValueCommand({ SecretId: this.options.secretArn }),
      );
      secretString = response.SecretString;
    } catch (error) {
      const name = (error as Error).name;
      if (TRANSIENT.has(name)) {
        throw new TransientFaultError(
          `Reading secret ${this.options.secretArn} failed transiently (${name}).`,
          {
            cause: error,
          },
        );
      }
      throw new InvalidInputError(
        `Reading secret ${this.options.secretArn} failed (${name}). Check that it exists and that the ` +
          "function's role may read it (and decrypt it with its KMS key).",
        { cause: error },
      );
    }
    const parsed = rdsSecretOf(secretString);
    if (!parsed) {
      // Never echo the secret's content.
      throw new InvalidInputError(
        `Secret ${this.options.secretArn} is not an RDS-style JSON secret with username, password, host and ` +
          'port (and optionally dbname). Store the credentials in that shape (RDS-managed secrets are).',
      );
    }
    const database = this.options.databaseName ?? parsed.dbname;
    if (!database) {
      throw new InvalidInputError(
        `Secret ${this.options.secretArn} has no dbname and no databaseName is configured: set the ` +
          "construct's databaseName prop.",
      );
    }
    const config: pg.ClientConfig = {
      host: parsed.host,
      port: parsed.port,
      user: parsed.username,
      password: parsed.password,
      database,
      ssl: { rejectUnauthorized: true },
    };
    this.cached = { config, at: now };
    return config;
  }
}
