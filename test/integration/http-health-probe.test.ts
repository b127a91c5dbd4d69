import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpHealthProbe } from '../../lambdas/shared/adapters/http/http-health-probe.js';
import type { HttpHealthCheckDefinition } from '../../lambdas/shared/runtime/settings.js';
import { freePort } from '../../lib/local/embedded-postgres.js';
import { startHttpServer, type TestHttpServer } from '../helpers/http-server.js';

let server: TestHttpServer;

beforeAll(async () => {
  server = await startHttpServer({ status: 200, body: 'status: ok' });
});

afterAll(async () => {
  await server.close();
});

async function one(check: HttpHealthCheckDefinition) {
  const report = await new HttpHealthProbe({ checks: [check] }).check();
  return report.checks[0];
}

describe('HttpHealthProbe', () => {
  it('passes on the expected status with the expected text in the body', async () => {
    server.answer({ status: 200, body: 'status: ok' });

    const result = await one({ name: 'api', url: `${server.url}/health`, bodyContains: 'ok' });

    expect(result).toEqual({
      name: 'api',
      kind: 'http',
      ok: true,
      detail: `GET ${server.url}/health: status 200, expected text found`,
    });
  });

  it('fails on another status, naming what was expected and what was seen', async () => {
    server.answer({ status: 503, body: 'maintenance: customer alice@example.com' });

    const result = await one({ name: 'api', url: `${server.url}/health` });

    expect(result).toMatchObject({ ok: false, kind: 'http' });
    expect(result?.detail).toBe(`GET ${server.url}/health: expected status 200, got status 503`);
  });

  it('accepts another expected status', async () => {
    server.answer({ status: 204 });

    expect(await one({ name: 'api', url: server.url, expectedStatus: 204 })).toMatchObject({ ok: true });
  });

  it('fails when the body lacks the text, never showing the body', async () => {
    server.answer({ status: 200, body: 'degraded: customer alice@example.com' });

    const result = await one({ name: 'api', url: `${server.url}/health`, bodyContains: 'status: ok' });

    expect(result?.ok).toBe(false);
    expect(result?.detail).toBe(
      `GET ${server.url}/health: expected status 200 with "status: ok" in the body, got status 200 without that ` +
        'text in the body (body not shown)',
    );
    expect(result?.detail).not.toContain('alice');
  });

  it('fails after its timeout when the server does not answer in time', async () => {
    server.answer({ status: 200, body: 'ok', delayMs: 2_000 });
    const started = Date.now();

    const result = await one({ name: 'slow', url: server.url, timeoutMs: 300 });

    expect(result?.ok).toBe(false);
    expect(result?.detail).toBe(`GET ${server.url}/: expected status 200, got no answer within 300 ms`);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('fails with the network error when nothing listens', async () => {
    const port = await freePort();

    const result = await one({ name: 'down', url: `http://127.0.0.1:${port}/health` });

    expect(result?.ok).toBe(false);
    expect(result?.detail).toMatch(/expected status 200, got no answer: ECONNREFUSED/);
  });

  it('does not follow a redirect: a login page is not the health endpoint', async () => {
    server.answer({ status: 302, headers: { location: '/login' } });

    const result = await one({ name: 'api', url: server.url });

    expect(result?.detail).toContain('got status 302');
  });

  it('runs no request for a URL with credentials or another scheme, naming the field', async () => {
    const before = server.requests();
    const withPassword = server.url.replace('http://', 'http://user:secret@');

    const credentials = await one({ name: 'api', url: withPassword });
    const ftp = await one({ name: 'files', url: 'ftp://example.com/health' });

    expect(credentials?.ok).toBe(false);
    expect(credentials?.detail).toContain('api.url: must not hold a user name or password');
    expect(credentials?.detail).not.toContain('secret');
    expect(ftp?.detail).toContain('files.url: must use http or https');
    expect(server.requests()).toBe(before);
  });

  it('hides the query string of the URL in its messages (it may carry a token)', async () => {
    server.answer({ status: 500 });

    const result = await one({ name: 'api', url: `${server.url}/health?token=abc123` });

    expect(result?.detail).toBe(`GET ${server.url}/health?...: expected status 200, got status 500`);
  });
});
