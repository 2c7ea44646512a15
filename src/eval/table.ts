/** Text table of evaluation figures for the terminal. */
import type { QualityFigures } from "./evaluate.ts";

/** One labelled row of {@link formatFiguresTable}. */
export interface FiguresRow {
  label: string;
  figures: QualityFigures;
}

const pct = (share: number) => (share * 100).toFixed(1).padStart(5);

/**
 * Formats rows as a fixed-width table: n, Inception Score, MNIST-FID, confidence, then the share (%) of
 * each digit 0–9.
 */
export function formatFiguresTable(rows: FiguresRow[]): string {
  const width = Math.max(12, ...rows.map((r) => r.label.length));
  const digits = Array.from({ length: 10 }, (_, k) => `${k}%`.padStart(5)).join(" ");
  const header = `${"".padEnd(width)}      n     IS  MNIST-FID  conf. | ${digits}`;
  const lines = rows.map(({ label, figures: f }) =>
    `${label.padEnd(width)} ${String(f.count).padStart(6)} ${
      f.inceptionScore.toFixed(2).padStart(6)
    } ` +
    `${f.fid.toFixed(2).padStart(10)} ${f.confidence.toFixed(3).padStart(6)} | ` +
    f.histogram.map(pct).join(" ")
  );
  return [header, "-".repeat(header.length), ...lines].join("\n");
}
