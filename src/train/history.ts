import { csvLine, csvText, parseCsv } from "../csv/mod.ts";
import {
  FileWriteError,
  INPUT_LIMITS,
  readTextFileBounded,
  systemReason,
  writeTextFileAtomic,
} from "../fsio/mod.ts";

/** The columns every `history.csv` starts with; later stages may append their own. */
export const HISTORY_COLUMNS = ["step", "d_loss", "d_acc", "g_loss", "seconds"] as const;

/** One row of `history.csv` (the reference's record plus wall time). */
export interface HistoryRecord {
  /** 0-based index of the step, as the reference notebook numbers them. */
  step: number;
  dLoss: number;
  /** Discriminator accuracy in percent (the reference records `100 * acc`). */
  dAcc: number;
  gLoss: number;
  /** Training seconds since the run started (summed over resumed sessions). */
  seconds: number;
  /** Values of extra columns (by column name); missing ones are left empty. */
  extra?: Record<string, number | string>;
}

/** The complete rows of a `history.csv`: its header's columns and each row with its step. */
export interface HistoryRows {
  columns: string[];
  rows: { step: number; cells: string[] }[];
}

/**
 * Reads the complete rows of `path` (none when it is missing or empty). A last line without its newline,
 * or a row with the wrong number of cells, is a write cut short by a crash and is left out.
 */
export async function readHistoryRows(path: string): Promise<HistoryRows> {
  let text = "";
  try {
    text = await readTextFileBounded(path, INPUT_LIMITS.runFile, "a history.csv");
  } catch (e) {
    if ((e as { code?: string }).code !== "ENOENT") throw e;
  }
  const { header: columns, rows: all } = parseCsv(text, { completeLinesOnly: true });
  const rows = all.filter((cells) => cells.length === columns.length && /^\d+$/.test(cells[0]))
    .map((cells) => ({ step: Number(cells[columns.indexOf("step")]), cells }));
  return { columns, rows };
}

/** The text of a `history.csv` holding `rows` under `columns` (cells re-laid out by column name). */
export function historyText(from: HistoryRows, columns: readonly string[]): string {
  const rows = from.rows.map(({ cells }) =>
    columns.map((c) => cells[from.columns.indexOf(c)] ?? "")
  );
  return csvText(columns, rows);
}

/** An open `history.csv` that appends one row per step and writes it through to the file at once. */
export class HistoryWriter {
  readonly #file: Deno.FsFile;
  readonly #path: string;
  readonly #columns: string[];
  readonly #encoder = new TextEncoder();

  private constructor(file: Deno.FsFile, path: string, columns: string[]) {
    this.#file = file;
    this.#path = path;
    this.#columns = columns;
  }

  /**
   * Opens `path` for appending with the base columns, the columns the file already has, and
   * `extraColumns` (so a resume without a later stage's hooks keeps that stage's columns). Existing rows
   * with `step < keepBelowStep` are kept (rows beyond a checkpoint are dropped when resuming after a
   * crash), re-laid out under the new header by column name; the file is rebuilt atomically before
   * appending starts. Returns the writer, the last kept `seconds` and how many rows were kept.
   */
  static async open(
    path: string,
    keepBelowStep: number,
    extraColumns: readonly string[] = [],
  ): Promise<{ writer: HistoryWriter; lastSeconds: number; keptRows: number }> {
    const old = await readHistoryRows(path);
    const columns = [...new Set([...HISTORY_COLUMNS, ...old.columns, ...extraColumns])];
    const kept = { columns: old.columns, rows: old.rows.filter((r) => r.step < keepBelowStep) };
    const seconds = old.columns.indexOf("seconds");
    const lastSeconds = kept.rows.reduce((t, r) => Number(r.cells[seconds]) || t, 0);
    writeTextFileAtomic(path, historyText(kept, columns));
    const file = await Deno.open(path, { append: true });
    return {
      writer: new HistoryWriter(file, path, columns),
      lastSeconds,
      keptRows: kept.rows.length,
    };
  }

  /**
   * Appends one row (written to the file before returning).
   * @throws {FileWriteError} naming the file when it cannot be written (disk full).
   */
  append(record: HistoryRecord): void {
    const base: Record<string, number | string> = {
      step: record.step,
      d_loss: record.dLoss,
      d_acc: record.dAcc,
      g_loss: record.gLoss,
      seconds: record.seconds.toFixed(3),
      ...record.extra,
    };
    const line = csvLine(this.#columns.map((c) => base[c] ?? "")) + "\n";
    const bytes = this.#encoder.encode(line);
    try {
      let written = 0;
      while (written < bytes.length) written += this.#file.writeSync(bytes.subarray(written));
    } catch (e) {
      throw new FileWriteError(this.#path, `cannot append (${systemReason(e)})`, { cause: e });
    }
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}

/** Reads a `history.csv` into records (base columns; extra columns under `extra`). */
export async function readHistory(path: string): Promise<HistoryRecord[]> {
  const text = await readTextFileBounded(path, INPUT_LIMITS.runFile, "a history.csv");
  const { header: columns, rows } = parseCsv(text);
  return rows.map((cells) => {
    const get = (name: string) => Number(cells[columns.indexOf(name)]);
    const extra: Record<string, string> = {};
    columns.forEach((c, i) => {
      if (!HISTORY_COLUMNS.some((b) => b === c)) extra[c] = cells[i] ?? "";
    });
    return {
      step: get("step"),
      dLoss: get("d_loss"),
      dAcc: get("d_acc"),
      gLoss: get("g_loss"),
      seconds: get("seconds"),
      ...(Object.keys(extra).length ? { extra } : {}),
    };
  });
}
