import { describe, expect, it } from 'vitest';
import { connectionTarget } from '../../lambdas/shared/adapters/postgres/client.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';

function refusal(url: string): Error {
  try {
    connectionTarget(url);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`connectionTarget accepted ${url}`);
}

describe('connectionTarget', () => {
  it.each([
    ['mysql://app:secret@db.example.com:3306/shop', 'mysql'],
    ['MariaDB://app:secret@db.example.com/shop', 'MariaDB'],
    ['http://db.example.com/shop', 'http'],
  ])('fails when the URL is not PostgreSQL (%s), naming the scheme', (url, scheme) => {
    const error = refusal(url);
    expect(error.name).toBe(ErrorNames.DatabaseUnreachable);
    expect(error.message).toContain(`"${scheme}://"`);
    expect(error.message).toContain('postgresql://');
    expect(error.message).not.toContain('secret');
  });

  it.each([
    ['password', 'postgres://app:s3cr%zzet@db.example.com:5432/shop'],
    ['user name', 'postgres://ap%p:s3cret@db.example.com:5432/shop'],
    ['database name', 'postgres://app:s3cret@db.example.com:5432/sh%G1op'],
  ])(
    'fails when the %s has an invalid percent-encoding, naming the part and not the password',
    (part, url) => {
      const error = refusal(url);
      expect(error.name).toBe(ErrorNames.DatabaseUnreachable);
      expect(error.message).toContain(`The database URL's ${part} is not valid percent-encoding`);
      expect(error.message).toContain('%25');
      expect(error.message).not.toContain('s3cr');
      expect(error.message).not.toMatch(/password is wrong|check the user name and password/);
    },
  );

  it('accepts postgres:// and postgresql:// URLs with valid percent-encoding', () => {
    expect(connectionTarget('postgresql://app:p%40ss%25word@db.example.com:5433/shop').endpoint).toBe(
      'db.example.com:5433/shop',
    );
    expect(connectionTarget('postgres://app@db.example.com/shop').endpoint).toBe('db.example.com:5432/shop');
  });
});
