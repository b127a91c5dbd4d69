/**
 * What an HTTP health check may be, checked in one place for the construct (at synthesis), the functions'
 * environment and the local runner: an http/https URL without credentials, a status code, a timeout.
 */
import type { HttpHealthCheckDefinition } from '../runtime/settings.js';

export const DEFAULT_HTTP_CHECK_TIMEOUT_MS = 5_000;
/** The longest an HTTP check may wait for its answer. */
export const MAX_HTTP_CHECK_TIMEOUT_MS = 60_000;
/** The longest bake time: the verify function sleeps through it (see `verify-health.ts`). */
export const MAX_BAKE_SECONDS = 600;

/** The problems of `check` (`field: what is wrong, the fix`), each naming its field; empty when valid. */
export function httpCheckProblems(check: unknown, field: string): string[] {
  if (check === null || typeof check !== 'object') return [`${field}: must be an object { name, url }`];
  const { name, url, expectedStatus, bodyContains, timeoutMs } = check as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof name !== 'string' || name.trim() === '')
    problems.push(`${field}.name: must be a non-empty string`);
  if (typeof url !== 'string') {
    problems.push(`${field}.url: must be an http:// or https:// URL`);
  } else {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      problems.push(`${field}.url: is not a valid URL; write it as https://host[:port]/path`);
    }
    if (parsed && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      problems.push(`${field}.url: must use http or https (received ${parsed.protocol}//...)`);
    }
    if (parsed && (parsed.username !== '' || parsed.password !== '')) {
      problems.push(
        `${field}.url: must not hold a user name or password (it would be in the template and the reports); ` +
          'use an endpoint that needs no credentials',
      );
    }
  }
  if (
    expectedStatus !== undefined &&
    (!Number.isInteger(expectedStatus) ||
      (expectedStatus as number) < 100 ||
      (expectedStatus as number) > 599)
  ) {
    problems.push(`${field}.expectedStatus: must be an HTTP status code from 100 to 599`);
  }
  if (bodyContains !== undefined && (typeof bodyContains !== 'string' || bodyContains === '')) {
    problems.push(`${field}.bodyContains: must be a non-empty string`);
  }
  if (
    timeoutMs !== undefined &&
    (!Number.isInteger(timeoutMs) ||
      (timeoutMs as number) < 1 ||
      (timeoutMs as number) > MAX_HTTP_CHECK_TIMEOUT_MS)
  ) {
    problems.push(`${field}.timeoutMs: must be an integer from 1 to ${MAX_HTTP_CHECK_TIMEOUT_MS}`);
  }
  return problems;
}

/** True when `check` is a valid HTTP health check. */
export function isHttpHealthCheck(check: unknown): check is HttpHealthCheckDefinition {
  return httpCheckProblems(check, 'check').length === 0;
}
