/// <reference lib="dom" />
import { imagesToPng } from "../../src/infer/browser.ts";
import type { GreyBatch } from "./digit_grid.ts";

/**
 * The PNG of a grid as the page shows it: `cols` digits a row at the model's resolution, 2 black pixels between
 * and around them, as `deno task sample --cols 8` writes its grid.
 */
export function gridPng(batch: GreyBatch, cols: number): Uint8Array<ArrayBuffer> {
  const png = imagesToPng({ ...batch, channels: 1, layout: "nchw" }, { cols, padding: 2 });
  return new Uint8Array(png);
}

/** The file name a saved grid gets: `dcgan-seed-7.png`, `dcgan-seed-7-digit-3.png`. */
export function gridFileName(seed: number, digit: number | null): string {
  return `dcgan-seed-${seed}${digit === null ? "" : `-digit-${digit}`}.png`;
}

/** Offers `png` to the browser as a download named `name`. */
export function downloadPng(png: Uint8Array<ArrayBuffer>, name: string): void {
  const url = URL.createObjectURL(new Blob([png], { type: "image/png" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the object URL; the browser no longer needs it afterwards.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
