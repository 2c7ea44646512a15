/** Which inference backend the page asks for. */
export type BackendChoice = "auto" | "webgpu" | "wasm";

/** The backends a URL may name. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ["auto", "webgpu", "wasm"];

/** The model the page loads unless the URL names another one. */
export const DEFAULT_MODEL_URL = "models/generator.onnx";

/** Rows of 8 digits in a full grid. */
export const MAX_ROWS = 8;

/** What the page reads from its URL; `problems` says in plain words what was ignored and why. */
export interface PageParams {
  seed: number;
  /** The chosen digit 0–9 (only samples the classifier reads as it), or null for any. */
  digit: number | null;
  backend: BackendChoice;
  modelUrl: string;
  /**
   * Rows of 8 digits to draw (1–8, default 8). Fewer rows suit slow devices; they show the first digits
   * of the full grid, because `latentsForSeed(seed, n, dim)` is a prefix of the same seed's 64 latents.
   */
  rows: number;
  problems: string[];
}

/** The result of reading a seed typed by a person. */
export type SeedResult = { ok: true; seed: number } | { ok: false; message: string };

/**
 * Reads a seed: a whole number from 0 to 2^53 − 1 (what `deno task sample --seed` accepts), with
 * surrounding spaces allowed. Anything else gives a message that says what is expected.
 */
export function parseSeed(text: string): SeedResult {
  const trimmed = text.trim();
  const seed = Number(trimmed);
  if (/^\d+$/.test(trimmed) && Number.isSafeInteger(seed)) return { ok: true, seed };
  const shown = trimmed.length > 24 ? `${trimmed.slice(0, 24)}…` : trimmed;
  return {
    ok: false,
    message: trimmed === ""
      ? "The seed is empty: type a whole number such as 7."
      : `"${shown}" is not a seed: use a whole number from 0 to ${Number.MAX_SAFE_INTEGER}.`,
  };
}

/**
 * True when `url`, resolved against the page's address as `fetch` resolves it, stays on the page's
 * origin. The URL parser, not a pattern, decides: it strips the spaces, tabs and newlines that made
 * `%20//host/x.onnx` look like a path and fetch another origin's file.
 */
function isSameOriginUrl(url: string, pageUrl: string): boolean {
  if (url.trim() === "") return false;
  try {
    const page = new URL(pageUrl);
    return new URL(url, page).origin === page.origin;
  } catch {
    return false;
  }
}

/**
 * Reads `?seed=N&digit=0..9&backend=auto|webgpu|wasm&rows=1..8&model=path.onnx` from a query string.
 * Bad values fall back to the defaults (seed 0, any digit, automatic backend, 8 rows, the shipped model)
 * and are listed in `problems`. A `model` must resolve, against `pageUrl` (the page's `location.href`),
 * to the page's own origin.
 */
export function readParams(search: string, pageUrl: string): PageParams {
  const query = new URLSearchParams(search);
  const params: PageParams = {
    seed: 0,
    digit: null,
    backend: "auto",
    modelUrl: DEFAULT_MODEL_URL,
    rows: MAX_ROWS,
    problems: [],
  };
  const seedText = query.get("seed");
  if (seedText !== null) {
    const result = parseSeed(seedText);
    if (result.ok) params.seed = result.seed;
    else params.problems.push(`${result.message} Showing seed 0 instead.`);
  }
  const digit = query.get("digit");
  if (digit !== null) {
    if (/^[0-9]$/.test(digit.trim())) params.digit = Number(digit);
    else params.problems.push(`The digit must be one of 0–9, not "${digit}"; showing any digit.`);
  }
  const backend = query.get("backend");
  if (backend !== null) {
    if ((BACKEND_CHOICES as readonly string[]).includes(backend)) {
      params.backend = backend as BackendChoice;
    } else {
      params.problems.push(
        `Unknown backend "${backend}" in the address; choose webgpu, wasm or auto. Using auto.`,
      );
    }
  }
  const rows = query.get("rows");
  if (rows !== null) {
    if (/^[1-8]$/.test(rows.trim())) params.rows = Number(rows);
    else params.problems.push(`Rows must be a whole number from 1 to 8, not "${rows}"; showing 8.`);
  }
  const model = query.get("model");
  if (model !== null) {
    if (isSameOriginUrl(model, pageUrl)) params.modelUrl = model;
    else params.problems.push(`The model must be a file on this site; ignoring "${model}".`);
  }
  return params;
}

/** The query string for a page state, keeping only values that differ from the defaults. */
export function paramsToSearch(state: Omit<PageParams, "problems">): string {
  const query = new URLSearchParams({ seed: String(state.seed) });
  if (state.digit !== null) query.set("digit", String(state.digit));
  if (state.backend !== "auto") query.set("backend", state.backend);
  if (state.rows !== MAX_ROWS) query.set("rows", String(state.rows));
  if (state.modelUrl !== DEFAULT_MODEL_URL) query.set("model", state.modelUrl);
  return `?${query}`;
}

const TENS = ["", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty"];
const SMALL = ["", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"];
const TEENS = [
  "Eleven",
  "Twelve",
  "Thirteen",
  "Fourteen",
  "Fifteen",
  "Sixteen",
  "Seventeen",
  "Eighteen",
  "Nineteen",
];

/** A count of 1–64 in words, capitalised (`Eight`, `Thirty-two`, `Sixty-four`), for the page's headline. */
export function countInWords(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`no words for ${n}`);
  if (n <= 10) return SMALL[n];
  if (n < 20) return TEENS[n - 11];
  const ones = n % 10;
  return ones === 0 ? TENS[n / 10] : `${TENS[Math.floor(n / 10)]}-${SMALL[ones].toLowerCase()}`;
}
