// A closed-loop load for the partner benchmarks: `one()` run `warmup` times, then by
// `concurrency` loops for `seconds`; the count, the rate and the latency percentiles.
export async function runLoad({ one, seconds, concurrency, warmup }) {
  for (let i = 0; i < warmup; i++) await one();
  const latencies = [];
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() - started < seconds * 1000) {
      const at = performance.now();
      await one();
      latencies.push(performance.now() - at);
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const quantile = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { count: latencies.length, perSecond: latencies.length / elapsed, p50: quantile(0.5), p99: quantile(0.99) };
}

/** The Markdown row of a load's result. */
export const loadRow = (r) => `| ${String(r.count)} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(0)} ms | ${r.p99.toFixed(0)} ms |`;
