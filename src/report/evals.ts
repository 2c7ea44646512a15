/** The evaluations of `eval.csv` per generator (raw and EMA), as the report's sections and verdict read them. */
import { EMA_COLUMN_PREFIX } from "../eval/mod.ts";
import type { NumericTable } from "./csv.ts";

/** The evaluations of one generator, oldest first (steps where it has figures only). */
export interface GeneratorEvals {
  /** As `bestEvaluation` and `deno task export --weights` name them. */
  weights: "raw" | "ema";
  /** For people: `raw` or `EMA`. */
  label: string;
  steps: number[];
  inceptionScore: number[];
  fid: number[];
  confidence: number[];
  /** The share of each digit 0–9, per evaluation. */
  shares: number[][];
}

/** The share of the samples farthest from an even 10 %: the digit and its share. */
export interface WorstDigit {
  digit: number;
  share: number;
}

/**
 * The raw generator's evaluations and, when the run keeps an EMA generator (its `ema_` cells are filled),
 * the EMA generator's. A row whose FID is empty is left out of its generator.
 */
export function generatorEvals(evals: NumericTable): GeneratorEvals[] {
  const steps = evals.columns.get("step") ?? [];
  const variants = [
    { weights: "raw" as const, label: "raw", prefix: "" },
    { weights: "ema" as const, label: "EMA", prefix: EMA_COLUMN_PREFIX },
  ];
  return variants.map(({ weights, label, prefix }) => {
    const col = (name: string) => evals.columns.get(prefix + name) ?? [];
    const rows = steps.map((_, i) => i).filter((i) => Number.isFinite(col("fid")[i]));
    return {
      weights,
      label,
      steps: rows.map((i) => steps[i]),
      inceptionScore: rows.map((i) => col("inception_score")[i]),
      fid: rows.map((i) => col("fid")[i]),
      confidence: rows.map((i) => col("confidence")[i]),
      shares: rows.map((i) => Array.from({ length: 10 }, (_, k) => col(`digit_${k}`)[i])),
    };
  }).filter((g) => g.steps.length > 0);
}

/** The digit whose share is farthest from 10 % (the lower digit on a tie). */
export function worstDigit(shares: number[]): WorstDigit {
  return shares.reduce<WorstDigit>(
    (worst, share, digit) =>
      Math.abs(share - 0.1) > Math.abs(worst.share - 0.1) ? { digit, share } : worst,
    { digit: 0, share: shares[0] },
  );
}

/** A share as a percentage with one decimal, e.g. `47.5 %`. */
export function percent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(1)} %` : "–";
}
