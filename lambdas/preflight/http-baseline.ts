/**
 * The HTTP checks before the release: a check that already fails now (the application is down, the URL is wrong,
 * its DNS name does not resolve from here) is not evidence against the release. Preflight runs them once; those
 * that fail are named in the plan's warnings and in `httpChecksFailingBefore`, and verification reports them
 * after the release without acting on them. Only a check that passed before can trigger a rollback.
 */
import type { HealthProbe } from '../shared/contract/ports.js';

/** The names of the HTTP checks failing now (empty when all pass), each reported in `warnings`. */
export async function httpChecksFailingBefore(probe: HealthProbe, warnings: string[]): Promise<string[]> {
  const report = await probe.check({ migrations: [] });
  const failing = report.checks.filter((check) => !check.ok);
  for (const check of failing) {
    warnings.push(
      `HTTP check "${check.name}" already fails before the release (${check.detail}). After the release it is ` +
        'reported, never acted on: only checks that pass now can trigger a rollback. Fix the check (URL, expected ' +
        'status, network path from the functions) or the application.',
    );
  }
  return failing.map((check) => check.name);
}
