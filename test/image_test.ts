import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { decode } from "fast-png";
import { encodeGif, encodePng, toGrid } from "../src/image/mod.ts";

Deno.test("toGrid tiles NHWC images with padding and maps [0,1] to bytes", () => {
  // two 2×2 grey images: first all 0.5, second a ramp
  const data = new Float32Array([0.5, 0.5, 0.5, 0.5, 0, 1 / 3, 2 / 3, 1.2]);
  const g = toGrid({ data, count: 2, height: 2, width: 2, channels: 1 }, { cols: 2, padding: 1 });
  assertEquals([g.width, g.height], [7, 4]);
  assertEquals(Array.from(g.data), [
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    128,
    128,
    0,
    0,
    85,
    0,
    0,
    128,
    128,
    0,
    170,
    255,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
});

Deno.test("toGrid reads NCHW layout and scales by nearest neighbour", () => {
  const data = new Float32Array([0, 1, 1, 0]); // one 2×2 image, 1 channel
  const g = toGrid({ data, count: 1, height: 2, width: 2, channels: 1, layout: "nchw" }, {
    padding: 0,
    scale: 2,
  });
  assertEquals(Array.from(g.data), [
    0,
    0,
    255,
    255,
    0,
    0,
    255,
    255,
    255,
    255,
    0,
    0,
    255,
    255,
    0,
    0,
  ]);
});

Deno.test("toGrid rejects data of the wrong length", () => {
  throws(
    () => toGrid({ data: new Float32Array(3), count: 1, height: 2, width: 2, channels: 1 }),
    /expected/,
  );
});

Deno.test("encodePng round-trips through a PNG decoder", () => {
  const g = toGrid({
    data: new Float32Array([0, 0.25, 0.5, 1]),
    count: 4,
    height: 1,
    width: 1,
    channels: 1,
  });
  const png = encodePng(g);
  assertEquals(Array.from(png.slice(1, 4)), [80, 78, 71]); // "PNG"
  const back = decode(png);
  assertEquals([back.width, back.height, back.channels], [g.width, g.height, 1]);
  assertEquals(Array.from(back.data), Array.from(g.data));
});

Deno.test("encodeGif writes an animated GIF89a with one image block per frame", () => {
  const frame = (v: number) => ({
    width: 2,
    height: 2,
    channels: 1 as const,
    data: new Uint8Array(4).fill(v),
  });
  const gif = encodeGif([frame(0), frame(128), frame(255)], { delayMs: 50 });
  assertEquals(new TextDecoder().decode(gif.slice(0, 6)), "GIF89a");
  assertEquals(gif[gif.length - 1], 0x3b); // trailer
  const imageSeparators = gif.filter((b, i) => b === 0x2c && gif[i - 1] === 0x00).length;
  assertEquals(imageSeparators >= 3, true);
});
