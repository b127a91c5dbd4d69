/**
 * The X-Ray side of a handler, with the tracer on as it is inside Lambda: the error the trace records is the
 * redacted one (the logging and redaction middleware runs its onError before the tracer's), and no response is
 * recorded. HTTPS capture stays off here: it patches Node's `https` for the whole worker process.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MigrationFailedError } from '../../lambdas/shared/contract/errors.js';

beforeAll(() => {
  vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs22.x');
  // The X-Ray SDK's Lambda mode: the function's segment is the one Lambda opened (named by _X_AMZN_TRACE_ID).
  vi.stubEnv('LAMBDA_TASK_ROOT', process.cwd());
  vi.stubEnv(
    '_X_AMZN_TRACE_ID',
    'Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1',
  );
  vi.stubEnv('POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS', 'false');
});
afterAll(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('the tracer middleware', () => {
  it('records the redacted error of a failed invocation, and no response', async () => {
    // Prepare: built after the environment says "Lambda", as the function's module is.
    const { tracer } = await import('../../lambdas/shared/runtime/observability.js');
    const { functionHandler } = await import('../../lambdas/shared/runtime/handler-factory.js');
    expect(tracer.isTracingEnabled()).toBe(true);
    const recorded: string[] = [];
    vi.spyOn(tracer, 'addErrorAsMetadata').mockImplementation((error: Error) => {
      recorded.push(`${error.message}\n${error.stack}`);
    });
    const responses = vi.spyOn(tracer, 'addResponseAsMetadata');
    const failing = functionHandler('apply-migrations', async () => {
      const error = new MigrationFailedError('Detail: Key (email)=(ada@example.com) already exists.');
      void error.stack; // read before it leaves, as a logger or a wrapper might
      throw error;
    });
    const succeeding = functionHandler('swap', async () => ({ phase: 'complete' }));
    const context = { awsRequestId: 'req-1', functionName: 'fn' } as never;

    // Act
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await failing({}, context).catch(() => undefined);
    await succeeding({}, context);

    // Assess
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toContain('Key (email)=(***) already exists.');
    expect(recorded[0]).not.toContain('ada@example.com');
    expect(responses).not.toHaveBeenCalled();
  });
});
