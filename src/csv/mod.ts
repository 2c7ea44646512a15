/**
 * The run folder's CSV files (`history.csv`, `eval.csv`): plain comma-separated cells without quoting (every
 * cell is a number or a bare name), one header line, `\n` line ends. One reader and one writer for all of them.
 * A leaf: it imports nothing from the project.
 * @module
 */

/** A CSV file's header and rows, as text cells. */
export interface CsvTable {
  header: string[];
  rows: string[][];
}

/** How {@link parseCsv} treats a file that may be in the middle of a write. */
export interface CsvReadOptions {
  /**
   * Drop the text after the last line end: a row whose write a crash cut short (default false: a reader
   * that only shows the file keeps it, and its missing cells read as empty).
   */
  completeLinesOnly?: boolean;
}

/** Splits CSV text into its header and rows; blank lines are skipped, `\r\n` is accepted. */
export function parseCsv(text: string, options: CsvReadOptions = {}): CsvTable {
  const lines = text.split("\n");
  if (options.completeLinesOnly) lines.pop();
  const [header, ...rows] = lines.map((l) => l.replace(/\r$/, "")).filter((l) => l.trim() !== "");
  return {
    header: header === undefined ? [] : header.split(",").map((h) => h.trim()),
    rows: rows.map((row) => row.split(",")),
  };
}

/** One CSV line, without its line end. */
export function csvLine(cells: readonly (string | number)[]): string {
  return cells.join(",");
}

/** The text of a whole CSV file: the header, then each row, each line ended by `\n`. */
export function csvText(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  return [header, ...rows].map(csvLine).join("\n") + "\n";
}
