export interface Summary {
  /** Every latency measured (ms), sorted. */
  latencies: number[];
  count: number;
  seconds: number;
  throughput: number;
  p50: number;
  p99: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

/** Runs `task(i)` for i in [0, n) with `concurrency` workers; returns throughput and latency percentiles (ms). */
export async function measure(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
  warmup = Math.ceil(n / 10),
): Promise<Summary> {
  // Warm the JIT, sockets and DynamoDB Local's caches first; those requests are not counted.
  for (let i = 0; i < warmup; i += concurrency)
    await Promise.all(Array.from({ length: concurrency }, (_, j) => task(n + i + j)));
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        const t = performance.now();
        await task(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return summarize(latencies, seconds);
}

export function summarize(latencies: number[], seconds: number): Summary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    latencies: sorted,
    count: sorted.length,
    seconds,
    throughput: sorted.length / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

/** Merges runs of one mode (e.g. interleaved rounds) into one summary. */
export function merge(runs: Summary[]): Summary {
  return summarize(
    runs.flatMap((r) => r.latencies),
    runs.reduce((sum, r) => sum + r.seconds, 0),
  );
}
