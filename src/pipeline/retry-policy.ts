/**
 * When to try a failed delivery again (pure). Exponential back-off with full jitter (a random
 * delay between 0 and base × 2^(attempt−1), capped), so that the submissions that failed together
 * during an outage do not all come back at the same instant when it ends. A job stops being
 * retried after its last allowed attempt or once it is older than the maximum age: it then goes
 * to the dead letter, where support staff can replay it.
 */

export interface RetryLimits {
  readonly baseMs: number;
  readonly maxDelayMs: number;
  readonly maxAttempts: number;
  readonly maxAgeMs: number;
}

export type RetryDecision =
  | { readonly retry: true; readonly runAt: Date }
  | { readonly retry: false; readonly reason: 'attempts-exhausted' | 'too-old' };

/**
 * `attempts` counts the attempt that just failed; `random` is in [0, 1) (injected for tests).
 * The delay is at least 1 ms so a failed job never runs again in the same instant.
 */
export function nextAttempt(o: { readonly attempts: number; readonly createdAt: Date; readonly now: Date; readonly limits: RetryLimits; readonly random: () => number }): RetryDecision {
  const { attempts, limits, now } = o;
  if (attempts >= limits.maxAttempts) return { retry: false, reason: 'attempts-exhausted' };
  const ceiling = Math.min(limits.maxDelayMs, limits.baseMs * 2 ** Math.min(attempts - 1, 40));
  const runAt = new Date(now.getTime() + Math.max(1, Math.floor(o.random() * ceiling)));
  if (runAt.getTime() - o.createdAt.getTime() > limits.maxAgeMs) return { retry: false, reason: 'too-old' };
  return { retry: true, runAt };
}
