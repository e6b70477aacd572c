/**
 * A progress figure for providers that give none (most of them: see docs/providers/
 * README.md §11.4). It rises with elapsed time against the route's typical duration, quickly
 * at first and then ever more slowly, so it never stalls visibly yet never reaches 100 before
 * the provider says the job is done. The refresher keeps it monotone across polls.
 */

/** The ceiling an estimate approaches; the last stretch is left for the real completion. */
const CEILING = 95;

/**
 * Estimated progress (0–95) after `elapsedMs` of a job that typically takes `typicalMs`.
 * At the typical duration it reads about 70; at twice that, about 90.
 */
export function estimatedProgress(elapsedMs: number, typicalMs: number): number {
  if (elapsedMs <= 0 || typicalMs <= 0) return 0;
  const ratio = elapsedMs / typicalMs;
  return Math.floor(CEILING * (1 - Math.exp(-1.3 * ratio)));
}
