/// <reference lib="dom" />
/**
 * The demo page: loads the generator, draws the 8 × 8 grid of `latentsForSeed(seed, 64, latentDim)`
 * (the same latents as `deno task sample --seed N`), or of the seed's latents the classifier reads as
 * the chosen digit (`--digit D`), and handles the seed field, the digit buttons, "new digits", the
 * latent walk, the enlarged view and keyboard shortcuts.
 * @module
 */
import { DigitGrid, type GreyBatch } from "./digit_grid.ts";
import { Engine, EngineError } from "./engine.ts";
import { LatentWalk } from "./latent_walk.ts";
import {
  type BackendChoice,
  type PageParams,
  paramsToSearch,
  parseSeed,
  readParams,
} from "./params.ts";
import { type DigitCaption, ZoomDialog } from "./zoom_dialog.ts";

const COLS = 8;
/** Time a walk should take from one seed to the next, and its bounds in frames. */
const WALK_SECONDS_PER_SEED = 3;
const WALK_MIN_FRAMES = 6;
const WALK_MAX_FRAMES = 45;
/** Largest seed "new digits" picks (any seed up to 2^53 − 1 can be typed). */
const RANDOM_SEED_LIMIT = 1_000_000;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page lacks #${id}`);
  return found as T;
}

/** Where a batch on screen came from, for captions. */
type Shown = { kind: "seed"; seed: number } | { kind: "walk"; from: number; t: number };

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
  readonly digitButtons = [...document.querySelectorAll<HTMLButtonElement>("#digits button")];
  engine: Engine | null = null;
  /** The chosen digit, or null for any. */
  digit: number | null = null;
  batch: GreyBatch | null = null;
  shown: Shown = { kind: "seed", seed: 0 };
  walking = false;
  /** Generation runs one at a time; a newer request replaces one still waiting. */
  #busy: Promise<void> = Promise.resolve();
  #pending = 0;
  /** Milliseconds the last batch took, to fit the walk's frame count to this device. */
  #lastMs = 1000;

  constructor() {
    this.params = readParams(location.search);
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
    for (const button of this.digitButtons) {
      button.addEventListener("click", () => {
        this.stopWalk();
        this.#pressDigit(button.dataset.digit === "" ? null : Number(button.dataset.digit));
        void this.showSeed(this.currentSeed());
      });
    }
    element<HTMLSelectElement>("backend").addEventListener("change", (event) => {
      const backend = (event.target as HTMLSelectElement).value as BackendChoice;
      location.search = paramsToSearch({
        ...this.params,
        seed: this.currentSeed(),
        digit: this.digit,
        backend,
      });
    });
    document.addEventListener("keydown", (event) => this.#onShortcut(event));
  }

  /** The buttons that need a loaded generator. */
  #setControlsEnabled(enabled: boolean): void {
    for (const button of [this.newButton, this.walkButton, this.drawButton, ...this.digitButtons]) {
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
    if (event.key === "n" || event.key === "N") this.newDigits();
    else if (event.key === "w" || event.key === "W") this.toggleWalk();
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

  currentSeed(): number {
    return this.shown.kind === "seed" ? this.shown.seed : this.shown.from;
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
  }

  /** Generates and draws one batch of latents; resolves once drawn (or replaced by a newer one). */
  render(latents: Float32Array, shown: Shown): Promise<void> {
    const ticket = ++this.#pending;
    const job = this.#busy.then(async () => {
      if (ticket !== this.#pending || this.engine === null) return;
      this.grid.root.setAttribute("aria-busy", "true");
      const started = performance.now();
      const batch = await this.engine.generate(latents);
      const ms = performance.now() - started;
      this.#lastMs = ms;
      this.#showBackend(this.engine);
      this.batch = batch;
      this.shown = shown;
      const label = shown.kind === "seed" ? `seed ${shown.seed}` : `walk ${shown.from}`;
      this.grid.draw(batch, label);
      if (shown.kind === "seed") this.grid.root.dataset.seed = String(shown.seed);
      else delete this.grid.root.dataset.seed;
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
    this.stopWalk();
    this.grid.root.setAttribute("aria-busy", "false");
    this.showMessage(`Generating failed: ${(error as Error).message}`);
  }

  /** The enlarged view's title and caption for digit `index` of what is on screen. */
  describe(index: number): DigitCaption {
    const where = `Row ${Math.floor(index / COLS) + 1}, column ${(index % COLS) + 1}`;
    if (this.shown.kind === "seed") {
      const seed = this.shown.seed;
      return {
        title: `Seed ${seed} · index ${index}`,
        detail: `${where}. Image ${index} of "deno task sample --seed ${seed}${
          this.digit === null ? "" : ` --digit ${this.digit}`
        }" is this digit.`,
      };
    }
    const percent = Math.round(this.shown.t * 100);
    return {
      title: `Seeds ${this.shown.from} → ${this.shown.from + 1} · index ${index}`,
      detail: `${where}, ${percent} % of the way along the walk.`,
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
    await this.render(latents, { kind: "seed", seed });
    this.setStatus(`Showing ${what}`);
  }

  submitSeed(): void {
    const seed = this.#validateSeedField();
    if (seed === null) {
      this.seedInput.focus();
      return;
    }
    this.stopWalk();
    void this.showSeed(seed);
  }

  newDigits(): void {
    if (this.engine === null) return;
    this.stopWalk();
    const random = new Uint32Array(1);
    crypto.getRandomValues(random);
    void this.showSeed(random[0] % RANDOM_SEED_LIMIT);
  }

  openZoom(index: number): void {
    if (this.batch === null) return;
    this.stopWalk();
    this.zoom.open(this.batch, index, (i) => this.describe(i));
  }

  toggleWalk(): void {
    if (this.walking) this.stopWalk();
    else void this.walk();
  }

  stopWalk(): void {
    if (!this.walking) return;
    this.walking = false;
    this.walkButton.setAttribute("aria-pressed", "false");
  }

  /** Animates a spherical interpolation from the current seed's latents to the next seed's, and on. */
  async walk(): Promise<void> {
    if (this.engine === null) return;
    const dim = this.engine.latentDim;
    this.walking = true;
    this.walkButton.setAttribute("aria-pressed", "true");
    let from = this.currentSeed();
    while (this.walking) {
      const frames = Math.round(
        Math.min(
          WALK_MAX_FRAMES,
          Math.max(WALK_MIN_FRAMES, WALK_SECONDS_PER_SEED * 1000 / this.#lastMs),
        ),
      );
      let path: LatentWalk;
      try {
        path = new LatentWalk(
          await this.engine.latents(from, this.count, this.digit),
          await this.engine.latents(from + 1, this.count, this.digit),
          dim,
          frames,
        );
      } catch (error) {
        this.showMessage((error as Error).message);
        break;
      }
      this.setStatus(`Walking from seed ${from} to ${from + 1} in ${frames} frames`);
      for (let frame = 1; frame <= frames && this.walking; frame++) {
        await this.render(path.frame(frame), { kind: "walk", from, t: frame / frames });
        await new Promise((resolve) => requestAnimationFrame(resolve));
      }
      if (!this.walking) break;
      from += 1;
      this.shown = { kind: "seed", seed: from };
      this.grid.root.dataset.seed = String(from);
      this.seedInput.value = String(from);
      history.replaceState(
        null,
        "",
        paramsToSearch({ ...this.params, seed: from, digit: this.digit }),
      );
    }
    this.setStatus(`Walk stopped near seed ${this.currentSeed()}`);
  }
}

// onnxruntime-web may start this bundle again inside its worker threads, where there is no page.
if (typeof document !== "undefined") {
  const page = new DemoPage();
  void page.start();
}
