/// <reference lib="dom" />
import { toByte } from "../../src/image/mod.ts";

/** A batch of grey images with values in [0, 1], `count` × `height` × `width`, row-major. */
export interface GreyBatch {
  data: Float32Array;
  count: number;
  height: number;
  width: number;
}

/** Largest size of one digit pixel on screen, in CSS pixels, before the grid stops growing. */
const MAX_CSS_PIXEL = 3;

/** Draws grey values in [0, 1] into a canvas as exact bytes: grey v → RGB(v, v, v), opaque. */
export function drawGrey(
  canvas: HTMLCanvasElement,
  batch: GreyBatch,
  index: number,
): void {
  const { width: w, height: h } = batch;
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const context = canvas.getContext("2d");
  if (context === null) throw new Error("this browser cannot draw on a canvas");
  const image = context.createImageData(w, h);
  const offset = index * w * h;
  for (let p = 0; p < w * h; p++) {
    const v = toByte(batch.data[offset + p]);
    image.data[4 * p] = v;
    image.data[4 * p + 1] = v;
    image.data[4 * p + 2] = v;
    image.data[4 * p + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

/**
 * The 8 × 8 grid of digits: each digit is a button holding a canvas at the model's resolution,
 * scaled on screen by a whole number of device pixels (no smoothing). Arrow keys, Home and End move
 * between digits (one tab stop for the whole grid); Enter, Space or a click opens one.
 */
export class DigitGrid {
  readonly cells: HTMLButtonElement[] = [];
  readonly canvases: HTMLCanvasElement[] = [];
  #focused = 0;
  /** Model pixels per digit side; cells are a whole number of device pixels per model pixel. */
  #imageSize: number;
  #fitCells = () => {};

  constructor(
    readonly root: HTMLElement,
    readonly cols: number,
    readonly rows: number,
    imageSize: number,
    onOpen: (index: number) => void,
  ) {
    this.#imageSize = imageSize;
    for (let i = 0; i < cols * rows; i++) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "digit";
      button.tabIndex = i === 0 ? 0 : -1;
      button.dataset.index = String(i);
      button.setAttribute("aria-label", `Digit ${i + 1}, row ${Math.floor(i / cols) + 1}: enlarge`);
      const canvas = document.createElement("canvas");
      canvas.width = imageSize;
      canvas.height = imageSize;
      button.append(canvas);
      button.addEventListener("click", () => onOpen(i));
      button.addEventListener("focus", () => this.#setFocusable(i));
      this.cells.push(button);
      this.canvases.push(canvas);
    }
    root.replaceChildren(...this.cells);
    root.setAttribute("aria-label", `${rows} by ${cols} generated digits`);
    root.addEventListener("keydown", (event) => this.#onKey(event));
    this.#watchSize();
  }

  /** Draws a batch (one image per cell) and records `label` (what it shows) on the grid element. */
  draw(batch: GreyBatch, label: string): void {
    if (batch.width !== this.#imageSize) {
      this.#imageSize = batch.width;
      this.#fitCells();
    }
    for (let i = 0; i < Math.min(batch.count, this.canvases.length); i++) {
      drawGrey(this.canvases[i], batch, i);
    }
    this.root.dataset.label = label;
  }

  /** Dims the cells from `count` on (they rest while a walk animates the first ones); null wakes them all. */
  rest(count: number | null): void {
    this.cells.forEach((cell, i) => cell.classList.toggle("resting", count !== null && i >= count));
  }

  #setFocusable(index: number): void {
    this.cells[this.#focused].tabIndex = -1;
    this.#focused = index;
    this.cells[index].tabIndex = 0;
  }

  #onKey(event: KeyboardEvent): void {
    const i = this.#focused, c = this.cols, n = this.cells.length;
    const moves: Record<string, number> = {
      ArrowLeft: i - 1,
      ArrowRight: i + 1,
      ArrowUp: i - c,
      ArrowDown: i + c,
      Home: i - (i % c),
      End: i - (i % c) + c - 1,
    };
    if (event.ctrlKey && event.key === "Home") moves.Home = 0;
    if (event.ctrlKey && event.key === "End") moves.End = n - 1;
    const next = moves[event.key];
    if (next === undefined) return;
    event.preventDefault();
    if (next < 0 || next >= n) return;
    this.#setFocusable(next);
    this.cells[next].focus();
  }

  /** Keeps each digit a whole number of device pixels per model pixel as the layout changes size. */
  #watchSize(): void {
    const host = this.root.parentElement ?? this.root;
    this.#fitCells = () => {
      const dpr = globalThis.devicePixelRatio || 1;
      const gap = parseFloat(getComputedStyle(this.root).columnGap) || 0;
      const available = host.clientWidth - (this.cols + 1) * gap - 2;
      const fit = Math.floor((available / this.cols) * dpr / this.#imageSize);
      const cap = Math.floor(MAX_CSS_PIXEL * dpr);
      const devicePixels = Math.max(1, Math.min(fit, cap));
      this.root.style.setProperty("--cell", `${(this.#imageSize * devicePixels) / dpr}px`);
    };
    new ResizeObserver(() => this.#fitCells()).observe(host);
    this.#fitCells();
  }
}
