import { expect } from 'chai';
import fc from 'fast-check';
import { CircuitBreaker } from '../../src/pipeline/circuit-breaker.js';
import { nextAttempt, type RetryLimits } from '../../src/pipeline/retry-policy.js';

const LIMITS: RetryLimits = { baseMs: 1_000, maxDelayMs: 60_000, maxAttempts: 8, maxAgeMs: 3_600_000 };
const T0 = new Date('2026-12-01T10:00:00Z');

describe('retry policy: exponential back-off with full jitter, bounded by attempts and age', () => {
  it('waits between 1 ms and min(max delay, base × 2^(attempt−1)), whatever the random draw', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: LIMITS.maxAttempts - 1 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempts, draw) => {
      const decision = nextAttempt({ attempts, createdAt: T0, now: T0, limits: LIMITS, random: () => draw });
      expect(decision.retry).to.equal(true);
      if (!decision.retry) return;
      const delay = decision.runAt.getTime() - T0.getTime();
      expect(delay).to.be.at.least(1).and.at.most(Math.min(LIMITS.maxDelayMs, LIMITS.baseMs * 2 ** (attempts - 1)));
    }));
  });

  it('spreads the retries of submissions that failed together (jitter), instead of one instant', () => {
    const delays = new Set([0.05, 0.3, 0.6, 0.95].map((draw) => {
      const d = nextAttempt({ attempts: 4, createdAt: T0, now: T0, limits: LIMITS, random: () => draw });
      return d.retry ? d.runAt.getTime() : 0;
    }));
    expect(delays.size).to.equal(4);
  });

  it('gives up after the last allowed attempt, and past the maximum age', () => {
    expect(nextAttempt({ attempts: LIMITS.maxAttempts, createdAt: T0, now: T0, limits: LIMITS, random: () => 0.5 })).to.deep.equal({ retry: false, reason: 'attempts-exhausted' });
    const late = new Date(T0.getTime() + LIMITS.maxAgeMs - 10);
    expect(nextAttempt({ attempts: 3, createdAt: T0, now: late, limits: LIMITS, random: () => 0.9 })).to.deep.equal({ retry: false, reason: 'too-old' });
  });
});

describe('circuit breaker: open after consecutive retryable failures, then one probe', () => {
  const options = { failureThreshold: 3, cooldownMs: 1_000 };

  it('stays closed below the threshold, and a success resets the count', () => {
    const breaker = new CircuitBreaker(options);
    breaker.failure(0);
    breaker.failure(0);
    breaker.success();
    breaker.failure(0);
    breaker.failure(0);
    expect(breaker.state(0)).to.equal('closed');
    expect(breaker.allowance(0, 8)).to.equal(8);
  });

  it('opens at the threshold, lets nothing through while open, then one probe at a time', () => {
    const breaker = new CircuitBreaker(options);
    for (let i = 0; i < 3; i++) breaker.failure(100);
    expect(breaker.state(500)).to.equal('open');
    expect(breaker.allowance(500, 8)).to.equal(0);
    expect(breaker.state(1_100)).to.equal('half-open');
    expect(breaker.allowance(1_100, 8)).to.equal(1);
    breaker.probing(1_100);
    expect(breaker.allowance(1_100, 8), 'a second probe while the first is in flight').to.equal(0);
    breaker.success();
    expect(breaker.state(1_100)).to.equal('closed');
  });

  it('lets the next probe through when a probe ends without a word on the partner (a refused document)', () => {
    const breaker = new CircuitBreaker(options);
    for (let i = 0; i < 3; i++) breaker.failure(0);
    breaker.probing(1_000);
    expect(breaker.allowance(1_000, 8)).to.equal(0);
    breaker.neutral();
    expect(breaker.state(1_000)).to.equal('half-open');
    expect(breaker.allowance(1_000, 8)).to.equal(1);
  });

  it('stays open twice as long after each failed probe, up to sixteen times the cooldown', () => {
    const breaker = new CircuitBreaker(options);
    for (let i = 0; i < 3; i++) breaker.failure(0);
    let now = 1_000;
    const openFor: number[] = [];
    for (let probe = 0; probe < 6; probe++) {
      breaker.probing(now);
      breaker.failure(now);
      let until = now;
      while (breaker.state(until) === 'open') until += 100;
      openFor.push(until - now);
      now = until;
    }
    expect(openFor).to.deep.equal([2_000, 4_000, 8_000, 16_000, 16_000, 16_000]);
  });
});
