/** A small numeric CSV reader for the run folder's `history.csv` and `eval.csv`. */

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
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0) return { header: [], columns: new Map(), rows: 0 };
  const header = lines[0].split(",").map((h) => h.trim());
  const columns = new Map(header.map((h) => [h, [] as number[]]));
  for (const line of lines.slice(1)) {
    const cells = line.split(",");
    header.forEach((h, i) => {
      const cell = cells[i]?.trim();
      columns.get(h)!.push(cell ? Number(cell) : NaN);
    });
  }
  return { header, columns, rows: lines.length - 1 };
}
