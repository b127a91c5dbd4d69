/**
 * The SnapshotGateway contract, run against the local PostgreSQL gateway on real PostgreSQL. The data
 * marker is a one-row table in each database.
 */
import { PostgresSnapshotGateway } from '../../lambdas/shared/adapters/postgres/snapshot-gateway.js';
import { describeSnapshotGatewayContract } from '../contract/snapshot-gateway.contract.js';
import { dropDatabase, uniqueName, urlFor, withAdmin, withClient } from '../helpers/database.js';

describeSnapshotGatewayContract('PostgresSnapshotGateway on real PostgreSQL', async () => {
  const target = uniqueName('contract').replaceAll('_', '-');
  await withAdmin((client) => client.query(`CREATE DATABASE "${target}"`));
  await withClient(urlFor(target), (client) =>
    client.query('CREATE TABLE marker (value text); INSERT INTO marker VALUES (NULL)'),
  );
  return {
    gateway: new PostgresSnapshotGateway({ serverUrl: urlFor(target), databaseName: target }),
    data: {
      read: async (identifier) => {
        const exists = await withAdmin(
          async (client) =>
            (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [identifier])).rowCount,
        );
        if (!exists) return undefined;
        const result = await withClient(urlFor(identifier), (client) =>
          client.query<{ value: string | null }>('SELECT value FROM marker'),
        );
        return result.rows[0]?.value ?? undefined;
      },
      write: async (identifier, value) => {
        await withClient(urlFor(identifier), (client) =>
          client.query('UPDATE marker SET value = $1', [value]),
        );
      },
    },
    teardown: async () => {
      const names = await withAdmin(
        async (client) =>
          (
            await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
              `${target}%`,
            ])
          ).rows,
      );
      for (const { datname } of names) await dropDatabase(datname);
    },
  };
});
