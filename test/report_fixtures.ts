/** Fixtures shared by the report tests. */

/** The cells of the figures of one generator in an `eval.csv` row: IS, FID, confidence, digit shares. */
export const figureCells = (
  is: number,
  fid: number,
  confidence: number,
  shares: number[] = Array(10).fill(0.1),
): string => [is, fid, confidence, ...shares].join(",");
