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

/** An open `history.csv` that appends one row per step and writes it through to the file at once. */
export class HistoryWriter {
  readonly #file: Deno.FsFile;
  readonly #columns: string[];
  readonly #encoder = new TextEncoder();

  private constructor(file: Deno.FsFile, columns: string[]) {
    this.#file = file;
    this.#columns = columns;
  }

  /**
   * Opens `path` for appending with the base columns, the columns the file already has, and
   * `extraColumns` (so a resume without a later stage's hooks keeps that stage's columns). Existing rows
   * with `step < keepBelowStep` are kept (rows beyond a checkpoint are dropped when resuming after a
   * crash), re-laid out under the new header by column name. Returns the writer and the last kept
   * `seconds`.
   */
  static async open(
    path: string,
    keepBelowStep: number,
    extraColumns: readonly string[] = [],
  ): Promise<{ writer: HistoryWriter; lastSeconds: number }> {
    let text = "";
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const [header, ...rows] = text.split("\n").filter((l) => l.length > 0);
    const old = header ? header.split(",") : [];
    const columns = [...new Set([...HISTORY_COLUMNS, ...old, ...extraColumns])];
    const lines = [columns.join(",")];
    let lastSeconds = 0;
    if (header) {
      for (const row of rows) {
        const cells = row.split(",");
        const value = (name: string) => cells[old.indexOf(name)] ?? "";
        if (!(Number(value("step")) < keepBelowStep)) continue;
        lines.push(columns.map(value).join(","));
        lastSeconds = Number(value("seconds")) || lastSeconds;
      }
    }
    await Deno.writeTextFile(path, lines.join("\n") + "\n");
    const file = await Deno.open(path, { append: true });
    return { writer: new HistoryWriter(file, columns), lastSeconds };
  }

  /** Appends one row (written to the file before returning). */
  append(record: HistoryRecord): void {
    const base: Record<string, number | string> = {
      step: record.step,
      d_loss: record.dLoss,
      d_acc: record.dAcc,
      g_loss: record.gLoss,
      seconds: record.seconds.toFixed(3),
      ...record.extra,
    };
    const line = this.#columns.map((c) => base[c] ?? "").join(",") + "\n";
    const bytes = this.#encoder.encode(line);
    let written = 0;
    while (written < bytes.length) written += this.#file.writeSync(bytes.subarray(written));
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}

/** Reads a `history.csv` into records (base columns; extra columns under `extra`). */
export async function readHistory(path: string): Promise<HistoryRecord[]> {
  const [header, ...rows] = (await Deno.readTextFile(path)).split("\n").filter((l) => l.length > 0);
  const columns = header.split(",");
  return rows.map((row) => {
    const cells = row.split(",");
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
