import { deepStrictEqual as assertEquals, ok, rejects, throws } from "node:assert/strict";
import {
  checkCount,
  imagesToNpy,
  imagesToPng,
  InputError,
  interpolateLatents,
  latentsForSeed,
  MAX_SAMPLES,
} from "../src/infer/mod.ts";
import { latentsForSeed as seededNormals } from "../src/random/mod.ts";

Deno.test("seed latents match stored vectors (the same numbers on every platform)", () => {
  const first4 = (seed: number) => Array.from(latentsForSeed(seed, 2, 100).subarray(0, 4));
  assertEquals(first4(0), [
    -0.43832677602767944,
    0.059583429247140884,
    -0.4656379520893097,
    -1.0095418691635132,
  ]);
  assertEquals(first4(7), [
    1.5446808338165283,
    -0.21299293637275696,
    1.0148048400878906,
    -0.868232786655426,
  ]);
  assertEquals(first4(123456789), [
    0.7717328667640686,
    -1.319682002067566,
    0.2916822135448456,
    -0.21167898178100586,
  ]);
  assertEquals(latentsForSeed(7, 2, 100)[199], 0.8162230849266052);
  assertEquals(latentsForSeed(7, 2, 100), seededNormals(7, 2, 100));
});

Deno.test("sample counts and seeds are bounded with clear messages", () => {
  for (const n of [0, -1, 1.5, MAX_SAMPLES + 1, NaN]) {
    throws(
      () => checkCount(n),
      (e: Error) => e instanceof InputError && /n must be an integer/.test(e.message),
    );
  }
  checkCount(1);
  checkCount(MAX_SAMPLES);
  throws(() => latentsForSeed(-1, 1, 100), /seed must be an integer from 0/);
  throws(() => latentsForSeed(2.5, 1, 100), InputError);
});

Deno.test("interpolation: ends are the inputs, lerp is linear, slerp keeps typical lengths", () => {
  const [a, b] = [latentsForSeed(1, 1, 100), latentsForSeed(2, 1, 100)];
  const norm = (v: Float32Array) => Math.hypot(...v);
  for (const mode of ["slerp", "lerp"] as const) {
    const walk = interpolateLatents(a, b, 5, mode);
    assertEquals(walk.length, 500);
    assertEquals(walk.subarray(0, 100), a);
    assertEquals(walk.subarray(400, 500), b);
  }
  const lerp = interpolateLatents(a, b, 3, "lerp");
  for (let i = 0; i < 100; i++) ok(Math.abs(lerp[100 + i] - (a[i] + b[i]) / 2) < 1e-6);
  const slerp = interpolateLatents(a, b, 3, "slerp");
  const mid = slerp.subarray(100, 200);
  // Two independent Gaussian vectors are nearly orthogonal: the linear midpoint is ~1/√2 as long, slerp's is not.
  ok(Math.abs(norm(mid) - (norm(a) + norm(b)) / 2) < 1e-3, `slerp midpoint length ${norm(mid)}`);
  ok(norm(lerp.subarray(100, 200)) < 0.8 * norm(mid));
  // Parallel vectors fall back to lerp.
  const twice = a.map((x) => 2 * x);
  const parallel = interpolateLatents(a, twice, 3, "slerp");
  for (let i = 0; i < 100; i++) ok(Math.abs(parallel[100 + i] - 1.5 * a[i]) < 1e-5);
  throws(() => interpolateLatents(a, b, 1), /steps must be an integer from 2/);
  throws(() => interpolateLatents(a, b.subarray(0, 50), 3), /lengths 100 and 50/);
});

const images = {
  data: Float32Array.from({ length: 6 * 4 * 3 }, (_, i) => (i % 17) / 16),
  count: 6,
  height: 4,
  width: 3,
  channels: 1 as const,
  layout: "nchw" as const,
};

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("PNG grid bytes are deterministic", async () => {
  const png = imagesToPng(images, { cols: 3, scale: 2 });
  assertEquals(
    png.subarray(0, 8),
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  );
  const view = new DataView(png.buffer, png.byteOffset);
  // IHDR: 3 columns × (3 + 2) + 2 = 17 px wide, 2 rows × (4 + 2) + 2 = 14 px high, times scale 2.
  assertEquals([view.getUint32(16), view.getUint32(20)], [34, 28]);
  assertEquals(imagesToPng(images, { cols: 3, scale: 2 }), png);
  assertEquals(
    await sha256(png),
    "de154927ed59f30ca3ce7b96171e932daef7520a8c5d27de838f503bba5ab519",
  );
});

Deno.test("npy output has NumPy's header and the float32 values", () => {
  const npy = imagesToNpy(images);
  const headerLength = new DataView(npy.buffer).getUint16(8, true);
  const header = new TextDecoder().decode(npy.subarray(10, 10 + headerLength));
  assertEquals(new TextDecoder().decode(npy.subarray(1, 6)), "NUMPY");
  assertEquals((10 + headerLength) % 64, 0);
  ok(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (6, 1, 4, 3), }"));
  const body = new Float32Array(npy.slice(10 + headerLength).buffer);
  assertEquals(body, images.data);
});

Deno.test("async API rejects instead of throwing synchronously", async () => {
  const { createGenerator } = await import("../src/infer/mod.ts");
  await rejects(createGenerator(42 as unknown as string), InputError);
});
