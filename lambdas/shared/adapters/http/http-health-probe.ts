/**
 * The user's HTTP health checks: a GET of each URL with Node's own `fetch` (no dependency), judged on the status
 * code and, when asked, on whether the body contains a given text. A failing check says what was expected and
 * what was seen, never the body (it may hold data): only whether the text was found.
 */
import type { HealthCheckResult, HealthReport } from '../../contract/contract.js';
import type { HealthProbe } from '../../contract/ports.js';
import { DEFAULT_HTTP_CHECK_TIMEOUT_MS, httpCheckProblems } from '../../domain/http-checks.js';
import type { HttpHealthCheckDefinition } from '../../runtime/settings.js';

/** The most of a body read to look for `bodyContains`. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpHealthProbeOptions {
  readonly checks: readonly HttpHealthCheckDefinition[];
  /** @default the global fetch */
  readonly fetch?: typeof fetch;
}

/** The URL without its query string (which may carry tokens), for messages. */
function shown(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}${parsed.search ? '?...' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Up to `MAX_BODY_BYTES` of the body as text. */
async function bodyOf(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Why a request got no answer: a timeout, or the network error's code (`ENOTFOUND`, `ECONNREFUSED`). */
function failureOf(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; cause?: { code?: string; message?: string }; message?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = e.cause?.code;
  return `no answer: ${code ? `${code} ` : ''}${e.cause?.message ?? e.message ?? 'request failed'}`.trim();
}

export class HttpHealthProbe implements HealthProbe {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: HttpHealthProbeOptions) {
    this.fetch = options.fetch ?? fetch;
  }

  /** Every HTTP check, one after the other (the expectation is the database's: HTTP checks do not read it). */
  async check(): Promise<HealthReport> {
    const checks: HealthCheckResult[] = [];
    for (const check of this.options.checks) checks.push(await this.one(check));
    return { healthy: checks.every((check) => check.ok), checks };
  }

  private async one(check: HttpHealthCheckDefinition): Promise<HealthCheckResult> {
    const name = check.name;
    const kind = 'http' as const;
    const problems = httpCheckProblems(check, name);
    if (problems.length > 0) return { name, kind, ok: false, detail: `not run: ${problems.join('; ')}` };
    const expected = check.expectedStatus ?? 200;
    const timeoutMs = check.timeoutMs ?? DEFAULT_HTTP_CHECK_TIMEOUT_MS;
    const target = `GET ${shown(check.url)}`;
    const wanted = `status ${expected}${check.bodyContains === undefined ? '' : ` with ${JSON.stringify(check.bodyContains)} in the body`}`;
    let response: Response;
    try {
      // A redirect is an answer of its own (a login page is not the health endpoint): not followed.
      response = await this.fetch(check.url, {
        method: 'GET',
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
        headers: { 'user-agent': 'prisma-migration-orchestrator health check' },
      });
    } catch (error) {
      return {
        name,
        kind,
        ok: false,
        detail: `${target}: expected ${wanted}, got ${failureOf(error, timeoutMs)}`,
      };
    }
    if (response.status !== expected) {
      await response.body?.cancel().catch(() => undefined);
      return {
        name,
        kind,
        ok: false,
        detail: `${target}: expected ${wanted}, got status ${response.status}`,
      };
    }
    if (check.bodyContains === undefined) {
      await response.body?.cancel().catch(() => undefined);
      return { name, kind, ok: true, detail: `${target}: status ${response.status}` };
    }
    let body: string;
    try {
      body = await bodyOf(response);
    } catch (error) {
      return {
        name,
        kind,
        ok: false,
        detail: `${target}: expected ${wanted}, got status ${response.status} and ${failureOf(error, timeoutMs)} while reading the body`,
      };
    }
    return body.includes(check.bodyContains)
      ? { name, kind, ok: true, detail: `${target}: status ${response.status}, expected text found` }
      : {
          name,
          kind,
          ok: false,
          detail: `${target}: expected ${wanted}, got status ${response.status} without that text in the body (body not shown)`,
        };
  }
}
