/**
 * Issue 21's Postgres targets, one line each, from the suite's medians: Stem's figure,
 * the peer's figure in the same run, the ratio (above 1: Stem is better) and whether it
 * reaches the target ratio. A line whose systems were not run (`--systems`) is left out.
 */
import type { Figures } from "./figures.ts";

export interface TargetLine {
  target: string;
  stemSystem: string;
  measured: number;
  peerSystem: string;
  peer: number;
  ratio: number;
  ratioAtLeast: number;
  met: boolean;
}

interface TargetSpec {
  target: string;
  stem: string;
  peer: string;
  figure: string;
  ratioAtLeast: number;
}

const DRAINS = ["drainC1PerSec", "drainC10PerSec", "drainC100PerSec"];

const SPECS: TargetSpec[] = [
  ...DRAINS.map((figure) => ({
    target: `${figure}, results kept: ≥ 0.8 × graphile-worker batched`,
    stem: "stem-batched",
    peer: "graphile-batched",
    figure,
    ratioAtLeast: 0.8,
  })),
  ...DRAINS.map((figure) => ({
    target: `${figure}, ignoreResult: ≥ 1.0 × graphile-worker batched`,
    stem: "stem-batched-ignore-result",
    peer: "graphile-batched",
    figure,
    ratioAtLeast: 1,
  })),
  {
    target: "drainC1PerSec at defaults: ≥ graphile-worker at its defaults",
    stem: "stem-default",
    peer: "graphile-default",
    figure: "drainC1PerSec",
    ratioAtLeast: 1,
  },
  {
    target: "enqueueBatchedPerSec: ≥ graphile-worker's",
    stem: "stem-batched",
    peer: "graphile-batched",
    figure: "enqueueBatchedPerSec",
    ratioAtLeast: 1,
  },
];

/** The target lines whose two systems are in `results` (medians by system name). */
export function postgresTargets(results: Record<string, Figures>): TargetLine[] {
  const lines: TargetLine[] = [];
  for (const spec of SPECS) {
    const stem = results[spec.stem]?.[spec.figure];
    const peer = results[spec.peer]?.[spec.figure];
    if (stem === undefined || peer === undefined) continue;
    const ratio = Number((stem / peer).toFixed(2));
    lines.push({
      target: spec.target,
      stemSystem: spec.stem,
      measured: stem,
      peerSystem: spec.peer,
      peer,
      ratio,
      ratioAtLeast: spec.ratioAtLeast,
      met: ratio >= spec.ratioAtLeast,
    });
  }
  return lines;
}
