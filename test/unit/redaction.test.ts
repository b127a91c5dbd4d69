import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { reportingStatementTimeoutMs } from '../../lambdas/apply-migrations/handler.js';
import { MigrationFailedError } from '../../lambdas/shared/contract/errors.js';
import { redactError, redactRowValues } from '../../lambdas/shared/domain/redaction.js';
import { stepLogging } from '../../lambdas/shared/runtime/middleware.js';
import { logger } from '../../lambdas/shared/runtime/observability.js';
import { captureOutput } from '../helpers/output.js';

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
    const handler = middy()
      .use(stepLogging({ step: 'apply-migrations' }))
      .handler(async () => {
        throw new MigrationFailedError(
          'Migration m2 failed. PostgreSQL error 23505: duplicate key. Detail: Key (email)=(ada@example.com) already exists.',
          { details: { detail: 'Key (email)=(ada@example.com) already exists.' } },
        );
      });
    const output = captureOutput();

    // Act
    const error = (await handler({}, {} as never)
      .catch((e: unknown) => e)
      .finally(() => output.restore())) as MigrationFailedError;

    // Assess
    expect(error.message).toContain('Key (email)=(***) already exists.');
    expect(JSON.stringify(error.details)).not.toContain('ada@example.com');
    expect(output.lines().join('\n')).not.toContain('ada@example.com');
    expect(output.json().find((line) => line.message === 'step failed')).toMatchObject({
      level: 'ERROR',
      step: 'apply-migrations',
      errorName: 'MigrationFailed',
      details: { detail: 'Key (email)=(***) already exists.' },
    });
  });
});

describe('reportingStatementTimeoutMs', () => {
  it('leaves the apply function a minute to report what committed', () => {
    expect(reportingStatementTimeoutMs(900_000)).toBe(840_000);
    expect(reportingStatementTimeoutMs(30_000)).toBe(1_000);
  });
});

describe('step log lines', () => {
  it('carry the step and the correlation keys on every line, and only during the invocation', async () => {
    // Prepare
    const handler = middy()
      .use(
        stepLogging({
          step: 'swap',
          correlation: (_event, context) => ({
            execution: 'release-v1-4-0',
            requestId: String(context?.awsRequestId),
          }),
        }),
      )
      .handler(async () => 'ok');
    const output = captureOutput();

    // Act
    try {
      await handler({}, { awsRequestId: 'req-123' } as never);
      logger.info('after the invocation');
    } finally {
      output.restore();
    }

    // Assess
    const [after, ...reversed] = output.json().reverse();
    const lines = reversed.reverse();
    expect(after).toMatchObject({ message: 'after the invocation' });
    expect(after).not.toHaveProperty('step');
    expect(after).not.toHaveProperty('execution');
    expect(lines.map((line) => line.message)).toEqual(['step started', 'step succeeded']);
    for (const line of lines) {
      expect(line).toMatchObject({
        level: 'INFO',
        step: 'swap',
        execution: 'release-v1-4-0',
        requestId: 'req-123',
      });
    }
    expect(lines[1]?.durationMs).toEqual(expect.any(Number));
  });
});
