/** Benchmark figures by name, and how suites combine rounds and compare systems. */
export type Figures = Record<string, number>;

/** Figures where a smaller value is better; every other figure is a throughput. */
const LOWER_IS_BETTER = new Set(["latencyP50Ms", "latencyP99Ms"]);

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The median of each figure over several rounds. */
export function medians(rounds: Figures[]): Figures {
  const out: Figures = {};
  for (const key of Object.keys(rounds[0])) out[key] = median(rounds.map((r) => r[key]));
  return out;
}

/** Stem against a peer per figure, above 1 when Stem is better (throughput Stem/peer, latency peer/Stem). */
export function ratio(key: string, stem: number, peer: number): number {
  return LOWER_IS_BETTER.has(key) ? peer / stem : stem / peer;
}

/** `ratio` for every figure, rounded to two decimals. */
export function ratiosOf(stem: Figures, peer: Figures): Figures {
  const out: Figures = {};
  for (const key of Object.keys(stem))
    out[key] = Number(ratio(key, stem[key], peer[key]).toFixed(2));
  return out;
}
