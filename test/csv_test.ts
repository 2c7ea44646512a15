import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { csvLine, csvText, parseCsv } from "../src/csv/mod.ts";

Deno.test("csv: header and rows; a cut-short last line is kept or dropped as asked", () => {
  const text = "step,d_loss\r\n0,0.69\n\n1,0.7\n2,0.";
  assertEquals(parseCsv(text), {
    header: ["step", "d_loss"],
    rows: [["0", "0.69"], ["1", "0.7"], ["2", "0."]],
  });
  assertEquals(parseCsv(text, { completeLinesOnly: true }).rows, [["0", "0.69"], ["1", "0.7"]]);
  assertEquals(parseCsv(""), { header: [], rows: [] });
});

Deno.test("csv: the writer's text reads back as the same table", () => {
  const header = ["step", "fid", "note"];
  const rows = [[0, "12.5", ""], [10, "8.25", "ema"]];
  const text = csvText(header, rows);
  assertEquals(text, "step,fid,note\n0,12.5,\n10,8.25,ema\n");
  assertEquals(csvLine(rows[1]), "10,8.25,ema");
  assertEquals(parseCsv(text, { completeLinesOnly: true }), {
    header,
    rows: rows.map((r) => r.map(String)),
  });
});
