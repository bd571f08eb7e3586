/**
 * One circuit breaker a job kind (the DMP, MSSanté…), in this process. After `failureThreshold`
 * consecutive retryable failures the circuit opens: no job of that kind is claimed for
 * `cooldownMs`; then one job is let through as a probe (half-open). The probe's success closes the
 * circuit, its failure opens it again for twice as long (up to 16 × the cooldown), so a partner
 * down for hours is probed rarely rather than hammered. Permanent failures (a refused document)
 * say nothing about the partner's health and leave the breaker alone.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

const MAX_COOLDOWN_FACTOR = 16;

export class CircuitBreaker {
  #failures = 0;
  #openUntil = 0;
  #factor = 1;
  #probing = false;

  constructor(private readonly options: { readonly failureThreshold: number; readonly cooldownMs: number }) {}

  state(now: number): BreakerState {
    if (this.#failures < this.options.failureThreshold) return 'closed';
    return now < this.#openUntil ? 'open' : 'half-open';
  }

  /** How many jobs may be claimed now: all when closed, none when open, one probe when half-open. */
  allowance(now: number, wanted: number): number {
    const state = this.state(now);
    if (state === 'closed') return wanted;
    if (state === 'open' || this.#probing) return 0;
    return Math.min(1, wanted);
  }

  /** Called once per job claimed under a half-open circuit: the probe is in flight. */
  probing(now: number): void {
    if (this.state(now) === 'half-open') this.#probing = true;
  }

  /**
   * A job that ended without a word on the partner's health (a document refused, a bug): a probe
   * that ends so says nothing either, and the next job is let through as the probe.
   */
  neutral(): void {
    this.#probing = false;
  }

  success(): void {
    this.#failures = 0;
    this.#factor = 1;
    this.#probing = false;
  }

  failure(now: number): void {
    const wasProbe = this.#probing;
    this.#probing = false;
    this.#failures += 1;
    if (this.#failures < this.options.failureThreshold) return;
    if (wasProbe) this.#factor = Math.min(MAX_COOLDOWN_FACTOR, this.#factor * 2);
    this.#openUntil = now + this.options.cooldownMs * this.#factor;
  }
}
