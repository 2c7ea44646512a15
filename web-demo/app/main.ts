/// <reference lib="dom" />
/**
 * The demo page: loads the generator, draws the 8 × 8 grid of `latentsForSeed(seed, 64, latentDim)`
 * (the same latents as `deno task sample --seed N`), or of the seed's latents the classifier reads as
 * the chosen digit (`--digit D`), and handles the seed field, the digit buttons, "new digits", the
 * latent walk, saving the grid as PNG, the enlarged view and keyboard shortcuts.
 * @module
 */
import { DigitGrid, type GreyBatch } from "./digit_grid.ts";
import { Engine, EngineError } from "./engine.ts";
import { downloadPng, gridFileName, gridPng } from "./grid_png.ts";
import { WalkPlayer } from "./latent_walk.ts";
import {
  type BackendChoice,
  countInWords,
  type PageParams,
  paramsToSearch,
  parseSeed,
  readParams,
} from "./params.ts";
import { type DigitCaption, ZoomDialog } from "./zoom_dialog.ts";

const COLS = 8;
/** Walk animates as many rows as this device draws this many times a second (at least one row). */
const WALK_FPS = 6;
/** Largest seed "new digits" picks (any seed up to 2^53 − 1 can be typed). */
const RANDOM_SEED_LIMIT = 1_000_000;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page lacks #${id}`);
  return found as T;
}

class DemoPage {
  readonly params: PageParams;
  /** Digits on the grid: 8 per row. */
  readonly count: number;
  readonly grid: DigitGrid;
  readonly zoom: ZoomDialog;
  readonly seedInput = element<HTMLInputElement>("seed");
  readonly seedNote = element<HTMLElement>("seed-note");
  readonly walkButton = element<HTMLButtonElement>("walk");
  readonly newButton = element<HTMLButtonElement>("new-digits");
  readonly drawButton = element<HTMLButtonElement>("draw");
  readonly saveButton = element<HTMLButtonElement>("save-png");
  readonly digitButtons = [...document.querySelectorAll<HTMLButtonElement>("#digits button")];
  engine: Engine | null = null;
  /** The chosen digit, or null for any. */
  digit: number | null = null;
  /** The grid on screen and its seed (during a walk: the seed the walk left last). */
  batch: GreyBatch | null = null;
  seed = 0;
  /** Generation runs one at a time; a newer request replaces one still waiting. */
  #busy: Promise<void> = Promise.resolve();
  #pending = 0;
  /** Milliseconds a digit took in the last batch, to size the walk to this device. */
  #msPerDigit = 30;
  #walk: WalkPlayer | null = null;
  /** The walk in progress: resolves once it has stopped and the grid shows a seed again. */
  #walked: Promise<void> = Promise.resolve();
  /** Whether a stopped walk draws the full grid of the nearest seed (not when another seed is drawn next). */
  #settle = true;

  constructor() {
    this.params = readParams(location.search, location.href);
    this.count = COLS * this.params.rows;
    this.grid = new DigitGrid(element("grid"), COLS, this.params.rows, 28, (i) => this.openZoom(i));
    this.zoom = new ZoomDialog(
      element("zoom"),
      element("zoom-canvas"),
      element("zoom-caption"),
      element("zoom-title"),
      element("zoom-prev"),
      element("zoom-next"),
      (i) => this.grid.cells[i].focus(),
    );
    this.seedInput.value = String(this.params.seed);
    element("tagline").textContent = `${countInWords(this.count)} handwritten digits that ` +
      "never existed, drawn by a neural network running on your own machine.";
    this.#pressDigit(this.params.digit);
    element<HTMLSelectElement>("backend").value = this.params.backend;
    this.#bindControls();
    this.#setControlsEnabled(false);
    if (this.params.problems.length > 0) this.showMessage(this.params.problems.join(" "), "info");
  }

  #bindControls(): void {
    element<HTMLFormElement>("controls").addEventListener("submit", (event) => {
      event.preventDefault();
      this.submitSeed();
    });
    this.seedInput.addEventListener("input", () => this.#validateSeedField());
    this.newButton.addEventListener("click", () => this.newDigits());
    this.walkButton.addEventListener("click", () => this.toggleWalk());
    this.saveButton.addEventListener("click", () => void this.saveGrid());
    for (const button of this.digitButtons) {
      button.addEventListener("click", () => {
        this.stopWalk(false);
        this.#pressDigit(button.dataset.digit === "" ? null : Number(button.dataset.digit));
        void this.showSeed(this.seed);
      });
    }
    element<HTMLSelectElement>("backend").addEventListener("change", (event) => {
      const backend = (event.target as HTMLSelectElement).value as BackendChoice;
      location.search = paramsToSearch({
        ...this.params,
        seed: this.seed,
        digit: this.digit,
        backend,
      });
    });
    document.addEventListener("keydown", (event) => this.#onShortcut(event));
  }

  /** The buttons that need a loaded generator. */
  #setControlsEnabled(enabled: boolean): void {
    const buttons = [this.newButton, this.walkButton, this.drawButton, this.saveButton];
    for (const button of [...buttons, ...this.digitButtons]) {
      button.disabled = !enabled;
    }
  }

  #pressDigit(digit: number | null): void {
    this.digit = digit;
    for (const button of this.digitButtons) {
      const pressed = button.dataset.digit === (digit === null ? "" : String(digit));
      button.setAttribute("aria-pressed", String(pressed));
    }
  }

  #onShortcut(event: KeyboardEvent): void {
    const target = event.target as HTMLElement;
    if (event.ctrlKey || event.metaKey || event.altKey || this.zoom.isOpen) return;
    if (["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName)) return;
    const key = event.key.toLowerCase();
    if (key === "n") this.newDigits();
    else if (key === "w") this.toggleWalk();
    else if (key === "s") void this.saveGrid();
    else return;
    event.preventDefault();
  }

  #validateSeedField(): number | null {
    const result = parseSeed(this.seedInput.value);
    this.seedInput.setAttribute("aria-invalid", String(!result.ok));
    this.seedNote.textContent = result.ok
      ? "The same seed always gives the same digits."
      : result.message;
    return result.ok ? result.seed : null;
  }

  /** Shows a message in plain words (`error` for failures, `info` for notes), or hides it. */
  showMessage(text: string | null, tone: "error" | "info" = "error"): void {
    const box = element<HTMLElement>("message");
    box.hidden = text === null;
    box.textContent = text ?? "";
    box.dataset.tone = tone;
  }

  setStatus(text: string): void {
    element("status-text").textContent = text;
  }

  async start(): Promise<void> {
    const { backend, modelUrl } = this.params;
    try {
      this.engine = await Engine.load(modelUrl, backend, (text) => this.setStatus(text));
    } catch (error) {
      document.body.dataset.state = "error";
      this.setStatus("Could not start");
      const text = error instanceof EngineError
        ? error.message
        : `The generator could not start: ${(error as Error).message}`;
      this.showMessage(text);
      return;
    }
    this.#setControlsEnabled(true);
    const { engine } = this;
    this.#showBackend(engine);
    if (backend !== "auto" && engine.backend !== backend) {
      const note = `${engine.reason}. WebAssembly draws the digits instead.`;
      this.showMessage([...this.params.problems, note].join(" "), "info");
    }
    const megabytes = (engine.modelBytes.length / 1e6).toFixed(1);
    const steps = engine.trainingSteps;
    const trained = steps === null
      ? ""
      : steps === 0
      ? ", untrained: 0 training steps"
      : `, ${steps.toLocaleString("en-US")} training steps`;
    element("model-text").textContent = `${modelUrl} (${megabytes} MB${trained}): ` +
      `${engine.latentDim} latent values → ${engine.height} × ${engine.width} grey image`;
    await this.showSeed(this.params.seed);
    document.body.dataset.state = "ready";
  }

  #showBackend(engine: Engine): void {
    const name = engine.backend === "webgpu" ? "WebGPU" : "WebAssembly";
    element("backend-text").textContent = `${name} (${engine.reason})`;
    this.grid.root.dataset.backend = engine.backend;
    if (engine.workers === null) delete this.grid.root.dataset.workers;
    else this.grid.root.dataset.workers = String(engine.workers);
  }

  /** Generates and draws the grid of `seed`; resolves once drawn (or replaced by a newer one). */
  render(latents: Float32Array, seed: number): Promise<void> {
    const ticket = ++this.#pending;
    const job = this.#busy.then(async () => {
      if (ticket !== this.#pending || this.engine === null) return;
      this.grid.root.setAttribute("aria-busy", "true");
      const started = performance.now();
      const batch = await this.engine.generate(latents);
      const ms = performance.now() - started;
      this.#msPerDigit = ms / batch.count;
      this.#showBackend(this.engine);
      this.batch = batch;
      this.seed = seed;
      this.grid.draw(batch, `seed ${seed}`);
      this.grid.root.dataset.seed = String(seed);
      this.grid.root.dataset.digit = this.digit === null ? "any" : String(this.digit);
      this.grid.root.setAttribute("aria-busy", "false");
      this.zoom.update(batch, (i) => this.describe(i));
      element("timing-text").textContent = `${ms.toFixed(0)} ms for ${batch.count} digits (${
        (ms / batch.count).toFixed(1)
      } ms each)`;
    });
    this.#busy = job.catch((error) => this.#renderFailed(error));
    return this.#busy;
  }

  #renderFailed(error: unknown): void {
    this.stopWalk(false);
    this.grid.root.setAttribute("aria-busy", "false");
    this.showMessage(`Generating failed: ${(error as Error).message}`);
  }

  /** The enlarged view's title and caption for digit `index` of the grid. */
  describe(index: number): DigitCaption {
    const where = `Row ${Math.floor(index / COLS) + 1}, column ${(index % COLS) + 1}`;
    const digit = this.digit === null ? "" : ` --digit ${this.digit}`;
    return {
      title: `Seed ${this.seed} · index ${index}`,
      detail:
        `${where}. Image ${index} of "deno task sample --seed ${this.seed}${digit}" is this digit.`,
    };
  }

  async showSeed(seed: number): Promise<void> {
    if (this.engine === null) return;
    this.seedInput.value = String(seed);
    this.#validateSeedField();
    const digit = this.digit;
    history.replaceState(null, "", paramsToSearch({ ...this.params, seed, digit }));
    const what = digit === null ? `seed ${seed}` : `the ${digit}s of seed ${seed}`;
    this.setStatus(`Drawing ${what}…`);
    let latents: Float32Array;
    try {
      latents = await this.engine.latents(seed, this.count, digit);
    } catch (error) {
      this.showMessage((error as Error).message);
      this.setStatus(`Could not draw ${what}`);
      return;
    }
    await this.render(latents, seed);
    this.setStatus(`Showing ${what}`);
  }

  submitSeed(): void {
    const seed = this.#validateSeedField();
    if (seed === null) {
      this.seedInput.focus();
      return;
    }
    this.stopWalk(false);
    void this.showSeed(seed);
  }

  newDigits(): void {
    if (this.engine === null) return;
    this.stopWalk(false);
    const random = new Uint32Array(1);
    crypto.getRandomValues(random);
    void this.showSeed(random[0] % RANDOM_SEED_LIMIT);
  }

  /** Enlarges digit `index`; a walk stops first and the grid settles on a seed. */
  async openZoom(index: number): Promise<void> {
    await this.stopWalk();
    if (this.batch === null) return;
    this.zoom.open(this.batch, index, (i) => this.describe(i));
  }

  /** Saves the grid on screen as a PNG file (a walk stops first and the grid settles on a seed). */
  async saveGrid(): Promise<void> {
    await this.stopWalk();
    await this.#busy;
    if (this.batch === null) return;
    downloadPng(gridPng(this.batch, COLS), gridFileName(this.seed, this.digit));
    this.setStatus(`Saved ${gridFileName(this.seed, this.digit)}`);
  }

  toggleWalk(): void {
    if (this.#walk !== null) void this.stopWalk();
    else void this.walk();
  }

  /**
   * Stops a walk. With `settle`, the grid then shows the whole grid of the seed the walk was nearest to (the seed
   * field says which); without, the caller draws another seed. Resolves once the walk is over.
   */
  stopWalk(settle = true): Promise<void> {
    if (this.#walk !== null) {
      this.#settle = settle;
      this.#walk.stop();
      this.walkButton.setAttribute("aria-pressed", "false");
    }
    return this.#walked;
  }

  /**
   * Walks from the current seed to the next and on (slerp between their latents), on as many rows as this device
   * draws {@link WALK_FPS} times a second; the other rows rest, dimmed, until the walk stops.
   */
  walk(): Promise<void> {
    const engine = this.engine;
    if (engine === null || this.#walk !== null) return this.#walked;
    const rows = Math.max(
      1,
      Math.min(this.params.rows, Math.floor(1000 / WALK_FPS / (this.#msPerDigit * COLS))),
    );
    const count = rows * COLS;
    const part = rows === this.params.rows
      ? ""
      : ` on the first ${
        rows === 1 ? "row" : `${rows} rows`
      } (as many as this device draws ${WALK_FPS} times a second)`;
    const player = new WalkPlayer({
      latentDim: engine.latentDim,
      latents: (seed, n) => engine.latents(seed, n, this.digit),
      generate: (latents) => engine.generate(latents),
      startLeg: (from, frames) =>
        this.setStatus(`Walking from seed ${from} to ${from + 1}${part}, ${frames} frames`),
      drawFrame: (batch, from, fps) => {
        this.grid.draw(batch, `walk ${from}`);
        element("timing-text").textContent = `${
          fps.toFixed(1)
        } frames per second, ${count} digits each`;
      },
      reachedSeed: (seed) => {
        this.seed = seed;
        this.seedInput.value = String(seed);
        history.replaceState(null, "", paramsToSearch({ ...this.params, seed, digit: this.digit }));
      },
    });
    this.#walk = player;
    this.#settle = true;
    this.walkButton.setAttribute("aria-pressed", "true");
    // A grid still being drawn (a seed asked for just before) is where the walk starts.
    const walked = this.#busy.then(() => {
      delete this.grid.root.dataset.seed;
      this.grid.rest(count);
      return player.play(this.seed, count, this.#msPerDigit);
    }).then(
      async (nearest) => {
        this.#walk = null;
        this.grid.rest(null);
        if (this.#settle) await this.showSeed(nearest);
      },
      (error) => {
        this.#walk = null;
        this.grid.rest(null);
        this.walkButton.setAttribute("aria-pressed", "false");
        this.showMessage(`The walk failed: ${(error as Error).message}`);
      },
    );
    this.#walked = walked;
    return walked;
  }
}

// onnxruntime-web may start this bundle again inside its worker threads, where there is no page.
if (typeof document !== "undefined") {
  const page = new DemoPage();
  void page.start();
}
