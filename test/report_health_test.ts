/** The report's judgement of a run: its wall time and the health verdict's rules, on real numbers. */
import { strict as assert } from "node:assert";
import { EVAL_CSV_HEADER } from "../src/eval/mod.ts";
import { judgeHealth, parseNumericCsv, runFigures, wallSeconds } from "../src/report/mod.ts";
import { figureCells } from "./report_fixtures.ts";

/** `history.csv` text of `n` steps with `row(i)` giving d_acc, g_loss and seconds of step i. */
function historyOf(n: number, row: (i: number) => [number, number, number]): string {
  const lines = Array.from({ length: n }, (_, i) => {
    const [dAcc, gLoss, seconds] = row(i);
    return `${i},0.6,${dAcc},${gLoss},${seconds}`;
  });
  return ["step,d_loss,d_acc,g_loss,seconds", ...lines].join("\n") + "\n";
}

Deno.test("wall time: log.txt's closing lines, plus history.csv's time of steps no closing line covers", () => {
  const history = parseNumericCsv(historyOf(80, (i) => [70, 1, (i + 1) * 0.25]));
  const firstHalf = parseNumericCsv(historyOf(40, (i) => [70, 1, (i + 1) * 0.25]));
  // One closed session: its closing line's figure exactly (history.csv says 10 s).
  assert.equal(wallSeconds(firstHalf, [{ from: 0, to: 40, seconds: 12.3 }]), 12.3);
  assert.equal(wallSeconds(firstHalf, []), 10, "no closing line yet: history.csv");
  // Resumed: the sessions add up.
  const two = [{ from: 0, to: 40, seconds: 12.3 }, { from: 40, to: 80, seconds: 11 }];
  assert.ok(Math.abs(wallSeconds(history, two) - 23.3) < 1e-9);
  // A session running now (steps 40–80, history at 20 s): 12.3 + (20 − 10).
  assert.ok(Math.abs(wallSeconds(history, two.slice(0, 1)) - 22.3) < 1e-9);
  const running = runFigures(history, two.slice(0, 1));
  assert.deepEqual([running.closedSessions, running.unclosedSteps], [1, 40]);
  // A later session that redid steps 20–40 replaces the first one's figure: history.csv's 5 s before
  // step 20, then the later session's 16 s.
  const redone = [{ from: 0, to: 40, seconds: 12.3 }, { from: 20, to: 80, seconds: 16 }];
  assert.ok(Math.abs(wallSeconds(history, redone) - (5 + 16)) < 1e-9);
  assert.equal(runFigures(history, redone).closedSessions, 1);
});

/** `eval.csv` text of raw evaluations (EMA cells left out): step, IS, FID, confidence and digit shares. */
function evalsOf(rows: [number, number, number, number, number[]?][]): string {
  return [
    EVAL_CSV_HEADER,
    ...rows.map(([step, is, fid, conf, shares]) =>
      `${step},2000,${figureCells(is, fid, conf, shares)}`
    ),
  ].join("\n") + "\n";
}

Deno.test("health verdict: each rule on real numbers", () => {
  const steady = parseNumericCsv(historyOf(400, (i) => [i % 2 ? 65 : 75, 1.5, i]));
  const improving = parseNumericCsv(
    evalsOf([[100, 5, 50, 0.9], [200, 7, 30, 0.9], [300, 8, 20, 0.92]]),
  );
  const healthy = judgeHealth(steady, improving);
  assert.equal(healthy.verdict, "healthy");
  assert.deepEqual(healthy.findings.map((f) => f.level), ["ok", "ok", "ok"]);
  assert.match(
    healthy.findings[0].text,
    /accuracy 70\.0 %, generator loss 1\.50 over the last 50 steps/,
  );
  assert.equal(
    healthy.findings[2].text,
    "raw FID improving: 50.0 at step 100 → 20.0 at step 300 (3 evaluations)",
  );

  // The discriminator wins: 99 % over the last 50 steps.
  const pinned = parseNumericCsv(historyOf(400, (i) => [i < 350 ? 70 : 99, 1.5, i]));
  const wins = judgeHealth(pinned, improving);
  assert.equal(wins.verdict, "unhealthy");
  assert.match(wins.findings[0].text, /^the discriminator wins: its accuracy averages 99\.0 %/);
  const almost = parseNumericCsv(historyOf(400, (i) => [i < 350 ? 70 : 97.9, 1.5, i]));
  assert.equal(judgeHealth(almost, improving).verdict, "healthy", "97.9 % is below the line");

  // At chance while the generator's loss goes from 1 to 4 (≥ 3 × its median); 2.9 is not.
  const blowUp = (g: number) =>
    parseNumericCsv(historyOf(400, (i) => (i < 350 ? [70, 1, i] : [50, g, i])));
  const blown = judgeHealth(blowUp(4), improving);
  assert.equal(blown.verdict, "unhealthy");
  assert.match(
    blown.findings[0].text,
    /at chance \(accuracy 50\.0 %.*mean 4\.00, ≥ 3 × its earlier median 1\.00/,
  );
  assert.equal(judgeHealth(blowUp(2.9), improving).verdict, "healthy");

  // Mode collapse: sure of the digits, but digit 1 is 40 % (or digit 7 is missing).
  const crowded = [0.0667, 0.4, ...Array(8).fill(0.0667)];
  const missing = [0.12, 0.12, 0.12, 0.12, 0.12, 0.12, 0.12, 0.01, 0.06, 0.07];
  for (
    const [shares, text] of [[crowded, /digit 1 is 40\.0 %/], [
      missing,
      /digit 7 is 1\.0 %/,
    ]] as const
  ) {
    const v = judgeHealth(steady, parseNumericCsv(evalsOf([[100, 3.1, 30, 0.93, [...shares]]])));
    assert.equal(v.verdict, "unhealthy");
    assert.match(v.findings[1].text, /^raw generator, step 100: mode collapse: /);
    assert.match(v.findings[1].text, text);
  }
  // The same shares at confidence 0.5 are noise, not collapse: too early to tell.
  const unsure = judgeHealth(steady, parseNumericCsv(evalsOf([[100, 1.5, 300, 0.5, crowded]])));
  assert.equal(unsure.verdict, "too early to tell");
  assert.match(unsure.findings[1].text, /not digits yet \(classifier confidence 0\.50 < 0\.7\)/);

  // FID up at each of the last 3 evaluations: a look; 2 rises after a fall: still improving.
  const rising = judgeHealth(
    steady,
    parseNumericCsv(
      evalsOf([[1, 5, 20, 0.9], [2, 6, 15, 0.9], [3, 6, 16, 0.9], [4, 6, 18, 0.9], [
        5,
        6,
        25,
        0.9,
      ]]),
    ),
  );
  assert.equal(rising.verdict, "needs a look");
  assert.equal(
    rising.findings[2].text,
    "raw FID rising at each of the last 3 evaluations: 15.0 → 16.0 → 18.0 → 25.0",
  );
  const twoRises = parseNumericCsv(
    evalsOf([[1, 5, 20, 0.9], [2, 6, 15, 0.9], [3, 6, 16, 0.9], [4, 6, 18, 0.9]]),
  );
  assert.equal(judgeHealth(steady, twoRises).verdict, "healthy");

  // A loss that is not a number in a row written whole; a row cut short (no seconds yet) is not one.
  const nan = historyOf(400, (i) => [70, 1.5, i]).replace(
    "\n3,0.6,70,1.5,3\n",
    "\n3,NaN,70,1.5,3\n",
  );
  const diverged = judgeHealth(parseNumericCsv(nan), improving);
  assert.equal(diverged.verdict, "unhealthy");
  assert.equal(diverged.findings[0].text, "diverged: a loss is not a number at step 4");
  const cut = judgeHealth(
    parseNumericCsv(historyOf(400, (i) => [70, 1.5, i]) + "400,0.6"),
    improving,
  );
  assert.equal(cut.verdict, "healthy");
  assert.match(cut.findings[0].text, /accuracy 70\.0 %/, "the cut row's empty cells are left out");

  // Fewer than 50 steps: too early; no evaluation: judged by the losses alone, and said so.
  const short = judgeHealth(parseNumericCsv(historyOf(49, (i) => [70, 1.5, i])), improving);
  assert.equal(short.verdict, "too early to tell");
  assert.equal(short.findings[0].text, "only 49 steps: too few to judge the losses (< 50)");
  const unevaluated = judgeHealth(steady, parseNumericCsv(""));
  assert.equal(unevaluated.verdict, "healthy");
  assert.match(unevaluated.findings[1].text, /^no evaluation yet/);
});
