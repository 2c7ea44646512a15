/** The run folder's `history.csv` and `eval.csv` as numeric columns, for the report. */
import { parseCsv } from "../csv/mod.ts";

/** A numeric table: the header names and one number array per column. */
export interface NumericTable {
  header: string[];
  /** Column values by header name (NaN where a cell is empty or not a number). */
  columns: Map<string, number[]>;
  rows: number;
}

/**
 * Parses comma-separated text with a header line into numeric columns. Blank lines are skipped; a short or
 * unparseable cell becomes NaN, so a line being written while the file is read does no harm.
 */
export function parseNumericCsv(text: string): NumericTable {
  const { header, rows } = parseCsv(text);
  const columns = new Map(header.map((h) => [h, [] as number[]]));
  for (const cells of rows) {
    header.forEach((h, i) => {
      const cell = cells[i]?.trim();
      columns.get(h)!.push(cell ? Number(cell) : NaN);
    });
  }
  return { header, columns, rows: rows.length };
}
