/** A seeded short training run's loss history, and the statistical check that two histories agree. */
import assert from "node:assert/strict";
import { buildDiscriminator, buildGenerator } from "../src/model/mod.ts";
import { Rng } from "../src/random/mod.ts";
import { createTrainer, type StepBatch, type StepLosses } from "../src/train/mod.ts";

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function variance(values: number[]): number {
  const m = mean(values);
  return values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1);
}

export const STEPS = 50;
const BATCH = 2;

function batchFor(rng: Rng, dropoutLayers: number): StepBatch {
  return {
    real: rng.normals(BATCH * 28 * 28, 0.5).map(Math.tanh),
    noise: rng.normals(BATCH * 100),
    realLabels: rng.normals(BATCH, 0.05).map((e) => 1 + e),
    fakeLabels: rng.normals(BATCH, 0.05),
    dropoutSeeds: Uint32Array.from({ length: 3 * dropoutLayers }, () => rng.nextUint32()),
  };
}

export async function lossHistory(): Promise<StepLosses[]> {
  const trainer = createTrainer(
    buildGenerator({ seed: 3 }),
    buildDiscriminator({ seed: 4 }),
    { learningRate: 2e-4, beta1: 0.5 },
  );
  const rng = new Rng(9);
  const history: StepLosses[] = [];
  for (let i = 0; i < STEPS; i++) {
    history.push(await trainer.step(batchFor(rng, trainer.dropoutLayers)));
  }
  trainer.dispose();
  trainer.generator.dispose();
  trainer.discriminator.dispose();
  return history;
}

/**
 * Asserts that `other` (same seed, different kernels) follows `plain` statistically: the first step's D loss agrees
 * to 1e-4 and each loss's mean agrees within half its step-to-step standard deviation.
 */
export function assertSameStatistics(plain: StepLosses[], other: StepLosses[]): void {
  // Same algorithm; only float summation orders differ. Adam turns rounding-level gradient
  // differences into full-size steps (e.g. biases ahead of BatchNorm, whose gradient is pure rounding), and GAN
  // training amplifies them, so the histories separate after a few steps. The check is statistical: the first
  // step's D loss agrees to 1e-4 and each loss's 50-step mean agrees within half its step-to-step standard deviation.
  assert.ok(Math.abs(other[0].dLoss - plain[0].dLoss) < 1e-4, "first step's D loss");
  for (const key of ["dLoss", "gLoss"] as const) {
    const a = plain.map((l) => l[key]);
    const b = other.map((l) => l[key]);
    const sd = Math.sqrt((variance(a) + variance(b)) / 2);
    const gap = Math.abs(mean(a) - mean(b));
    console.log(`${key}: mean ${mean(a).toFixed(3)} vs ${mean(b).toFixed(3)}, sd ${sd.toFixed(3)}`);
    assert.ok(gap < 0.5 * sd, `${key} means differ by ${gap.toFixed(3)} (sd ${sd.toFixed(3)})`);
  }
}
