import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import {
  parsePeerOutput,
  PEER_SCRIPT,
  peerRatioRefusal,
  peerUnavailable,
} from "../src/bench/mod.ts";

const OUTPUT = (blas: string, optimised: "yes" | "no") =>
  [
    "torch 1.13.0a0, 2 threads",
    "parameters: generator 1,555,329, discriminator 694,785",
    `BLAS loaded: ${blas}`,
    `BLAS optimised: ${optimised}`,
    "SGEMM 2048^3 BLAS: 107.4 GFLOP/s",
    "SGEMM 2048^3 oneDNN: 177.5 GFLOP/s",
    "TRAIN step median 612.3 ms (min 590.1, max 640.2, 10 steps)",
    "floor: train step >= 359 ms",
    "INFER batch 1: median 5.13 ms -> 195.0 samples/s",
    "INFER batch 32: median 126.00 ms -> 254.0 samples/s",
  ].join("\n");

Deno.test("peer output: step, BLAS, best matrix rate, floor and generator rows are read", () => {
  const peer = parsePeerOutput(
    OUTPUT("openblas (/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3)", "yes"),
    2,
  );
  assertEquals(peer.msPerStep, 612.3);
  assertEquals(peer.torch, "1.13.0a0");
  assertEquals(peer.blasOptimised, true);
  assertEquals(peer.gemmGflops, 177.5);
  assertEquals(peer.floorMs, 359);
  assertEquals(peer.infer, [
    { batch: 1, msPerBatch: 5.13, samplesPerSecond: 195 },
    { batch: 32, msPerBatch: 126, samplesPerSecond: 254 },
  ]);
  assertEquals(peerRatioRefusal(peer), null);
});

Deno.test("peer on the reference BLAS: no ratio, and the message says how to fix it", () => {
  const peer = parsePeerOutput(
    OUTPUT("reference (/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0)", "no"),
    2,
  );
  const refusal = peerRatioRefusal(peer) ?? "";
  assertMatch(refusal, /^no ratio: .*reference/);
  assertMatch(refusal, /apt-get install -y python3-torch libopenblas0-openmp/);
  assertMatch(refusal, /LD_LIBRARY_PATH=\/usr\/lib\/x86_64-linux-gnu\/openblas-openmp/);
});

Deno.test("peer output without a training line is an error, not a zero", () => {
  let message = "";
  try {
    parsePeerOutput("torch 1.13.0a0, 2 threads\n", 2);
  } catch (e) {
    message = (e as Error).message;
  }
  assertMatch(message, /no 'TRAIN step median' line/);
});

const noTorch = await peerUnavailable({ threads: 1, steps: 1 });
Deno.test({
  name:
    "peer_torch.py builds the reference networks with their parameter counts and names its BLAS",
  ignore: noTorch !== null,
  async fn() {
    const run = async (env: Record<string, string>) => {
      const out = await new Deno.Command("/usr/bin/python3", {
        args: [PEER_SCRIPT, "--check"],
        env,
        stdout: "piped",
      }).output();
      assert(out.success, "peer_torch.py --check failed");
      return new TextDecoder().decode(out.stdout);
    };
    const text = await run({});
    assertMatch(text, /^parameters: generator 1,555,329, discriminator 694,785$/m);
    assertMatch(text, /^BLAS loaded: \S+ \(\/.+\)$/m);
    const reference = "/usr/lib/x86_64-linux-gnu/blas";
    const hasReference = await Deno.stat(reference).then(() => true, () => false);
    if (hasReference) {
      assertMatch(await run({ LD_LIBRARY_PATH: reference }), /^BLAS optimised: no$/m);
    }
  },
});
