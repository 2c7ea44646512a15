/// <reference lib="dom" />
import { drawGrey, type GreyBatch } from "./digit_grid.ts";

/** What the enlarged view says about a digit. */
export interface DigitCaption {
  title: string;
  detail: string;
}

/**
 * The enlarged view of one digit (a modal `<dialog>`: Escape closes it, focus stays inside). It shows
 * the digit's seed and index; ← and → step through the grid.
 */
export class ZoomDialog {
  #index = 0;
  #batch: GreyBatch | null = null;
  #describe: (index: number) => DigitCaption = (index) => ({ title: `Digit ${index}`, detail: "" });

  constructor(
    readonly dialog: HTMLDialogElement,
    readonly canvas: HTMLCanvasElement,
    readonly caption: HTMLElement,
    readonly title: HTMLElement,
    prev: HTMLButtonElement,
    next: HTMLButtonElement,
    onClose: (index: number) => void,
  ) {
    prev.addEventListener("click", () => this.#step(-1));
    next.addEventListener("click", () => this.#step(1));
    dialog.addEventListener("keydown", (event) => {
      if (event.key === "ArrowLeft") this.#step(-1);
      else if (event.key === "ArrowRight") this.#step(1);
      else return;
      event.preventDefault();
    });
    dialog.addEventListener("close", () => onClose(this.#index));
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close();
    });
  }

  /** True while the dialog is shown. */
  get isOpen(): boolean {
    return this.dialog.open;
  }

  /** Shows digit `index` of `batch`; `describe` gives its caption (seed and index). */
  open(batch: GreyBatch, index: number, describe: (index: number) => DigitCaption): void {
    this.#batch = batch;
    this.#describe = describe;
    this.#show(index);
    if (!this.dialog.open) this.dialog.showModal();
  }

  /** Redraws the open digit from a new batch (for example during a walk). */
  update(batch: GreyBatch, describe: (index: number) => DigitCaption): void {
    this.#batch = batch;
    this.#describe = describe;
    if (this.dialog.open) this.#show(this.#index);
  }

  #step(delta: number): void {
    if (this.#batch === null) return;
    const n = this.#batch.count;
    this.#show((this.#index + delta + n) % n);
  }

  #show(index: number): void {
    if (this.#batch === null) return;
    this.#index = index;
    drawGrey(this.canvas, this.#batch, index);
    const { title, detail } = this.#describe(index);
    this.title.textContent = title;
    this.caption.textContent = detail;
    this.canvas.setAttribute("aria-label", `Enlarged digit: ${title}`);
  }
}
