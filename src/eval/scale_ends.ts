/**
 * The two ends of the MNIST-FID scale of `models/classifier.onnx`, measured once: real MNIST training
 * digits against the test set (the best a generator can hope for) and the untrained generator (seed-0
 * initial weights, the worst). A Fréchet distance of few samples reads higher (the feature covariance of a
 * small sample is noisy), so each end depends on the number of samples; they were measured at several
 * counts.
 */

/** The ends of the FID scale for one sample count, as {@link fidScaleEnds} gives them. */
export interface FidScaleEstimate {
  /** Samples per evaluation. */
  count: number;
  /** MNIST-FID of `count` MNIST training digits against the test set (`deno task eval`'s "MNIST train"). */
  trainVsTest: number;
  /** MNIST-FID of `count` samples of the untrained generator ("untrained generator"). */
  untrained: number;
  /**
   * `measured`: measured at this count; `interpolated`: linearly in 1/count between the two measured
   * counts around it (the small-sample excess of a Fréchet distance falls roughly as 1/count);
   * `nearest`: outside the measured counts, the figures of the nearest one.
   */
  source: "measured" | "interpolated" | "nearest";
  /** The sample counts whose measurements give the figures (two when interpolated). */
  measuredAt: number[];
}

/**
 * Measured with `deno task eval --model models/generator.onnx -n COUNT --json` (seed 0; fields
 * `mnistTrain.fid` and `untrained.fid`), smallest count first.
 */
const MEASURED_FID_ENDS: readonly Omit<FidScaleEstimate, "source" | "measuredAt">[] = [
  { count: 200, trainVsTest: 9.856, untrained: 396.20 },
  { count: 500, trainVsTest: 3.687, untrained: 396.17 },
  { count: 2000, trainVsTest: 1.063, untrained: 396.17 },
  { count: 10000, trainVsTest: 0.602, untrained: 396.17 },
];

/** The ends of the FID scale for evaluations of `count` samples. */
export function fidScaleEnds(count: number): FidScaleEstimate {
  const rows = MEASURED_FID_ENDS;
  const exact = rows.find((r) => r.count === count);
  if (exact) return { ...exact, source: "measured", measuredAt: [count] };
  const upper = rows.findIndex((r) => r.count > count);
  if (upper <= 0) {
    const nearest = upper === 0 ? rows[0] : rows[rows.length - 1];
    return { ...nearest, count, source: "nearest", measuredAt: [nearest.count] };
  }
  const [a, b] = [rows[upper - 1], rows[upper]];
  const t = (1 / count - 1 / a.count) / (1 / b.count - 1 / a.count);
  const at = (x: number, y: number) => x + t * (y - x);
  return {
    count,
    trainVsTest: at(a.trainVsTest, b.trainVsTest),
    untrained: at(a.untrained, b.untrained),
    source: "interpolated",
    measuredAt: [a.count, b.count],
  };
}
