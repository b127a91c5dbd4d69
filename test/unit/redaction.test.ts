import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { reportingStatementTimeoutMs } from '../../lambdas/apply-migrations/handler.js';
import { MigrationFailedError } from '../../lambdas/shared/contract/errors.js';
import { redactError, redactRowValues } from '../../lambdas/shared/domain/redaction.js';
import { stepLogging } from '../../lambdas/shared/runtime/middleware.js';

describe('redactRowValues', () => {
  it.each([
    ['Key (email)=(ada@example.com) already exists.', 'Key (email)=(***) already exists.'],
    [
      'Key ("tenantId", email)=(7, ada (work)@example.com) is duplicated.',
      'Key ("tenantId", email)=(***) is duplicated.',
    ],
    [
      'Key (customer_id)=(42) is not present in table "Customer".',
      'Key (customer_id)=(***) is not present in table "Customer".',
    ],
    ['Failing row contains (1, ada@example.com, -5).', 'Failing row contains (***).'],
    [
      'invalid input syntax for type integer: "ada@example.com"',
      'invalid input syntax for type integer: "***"',
    ],
    ['invalid input value for enum "Role": "SUPERUSER"', 'invalid input value for enum "Role": "***"'],
    ['value "99999999999" is out of range for type integer', 'value "***" is out of range for type integer'],
  ])('redacts the row values of %s', (text, expected) => {
    expect(redactRowValues(text)).toBe(expected);
  });

  it('keeps messages without row values as they are', () => {
    const text = 'relation "User" already exists (migration.sql line 3, column 1)';
    expect(redactRowValues(text)).toBe(text);
  });
});

describe('redactError', () => {
  it('redacts the stack trace too, when it was read before the message was redacted', () => {
    // Prepare: the stack's first line is the message as it was when the stack was first read.
    const error = new MigrationFailedError('Detail: Key (email)=(ada@example.com) already exists.');
    expect(error.stack).toContain('ada@example.com');

    // Act
    redactError(error);

    // Assess
    expect(error.stack).not.toContain('ada@example.com');
    expect(error.stack).toContain('Key (email)=(***) already exists.');
  });
});

describe('the step edge (middleware)', () => {
  it('redacts the message, the details and the log line of an error leaving a step', async () => {
    // Prepare
    const lines: Record<string, unknown>[] = [];
    const handler = middy()
      .use(stepLogging({ step: 'apply-migrations', log: (line) => lines.push(line) }))
      .handler(async () => {
        throw new MigrationFailedError(
          'Migration m2 failed. PostgreSQL error 23505: duplicate key. Detail: Key (email)=(ada@example.com) already exists.',
          { details: { detail: 'Key (email)=(ada@example.com) already exists.' } },
        );
      });

    // Act
    const error = (await handler({}, {} as never).catch((e: unknown) => e)) as MigrationFailedError;

    // Assess
    expect(error.message).toContain('Key (email)=(***) already exists.');
    expect(JSON.stringify(error.details)).not.toContain('ada@example.com');
    expect(JSON.stringify(lines)).not.toContain('ada@example.com');
  });
});

describe('reportingStatementTimeoutMs', () => {
  it('leaves the apply function a minute to report what committed', () => {
    expect(reportingStatementTimeoutMs(900_000)).toBe(840_000);
    expect(reportingStatementTimeoutMs(30_000)).toBe(1_000);
  });
});

describe('step log lines', () => {
  it('carry the execution name, the release and the request id on every line', async () => {
    // Prepare
    const lines: Record<string, unknown>[] = [];
    const handler = middy()
      .use(stepLogging({ step: 'swap', log: (line) => lines.push(line) }))
      .handler(async () => 'ok');

    // Act
    await handler(
      { execution: { name: 'release-v1-4-0', id: 'arn:x', startedAt: 't' }, input: { release: 'v1.4.0' } },
      { awsRequestId: 'req-123' } as never,
    );

    // Assess
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toMatchObject({
        step: 'swap',
        execution: 'release-v1-4-0',
        release: 'v1.4.0',
        requestId: 'req-123',
      });
    }
  });
});
