/**
 * `GET /v1/sample.png?seed=S&n=N[&digit=D]`: a PNG grid of `n` samples of seed `s` (only digit `D`'s, when
 * asked), the same bytes as `deno task sample --seed S -n N [--digit D]` (both are
 * `imagesToPng(await generator.sample(n, { seed, digit }))` with the grid's default columns, padding and scale,
 * which the server's model worker makes). This module reads the query.
 * @module
 */
import { MAX_SAMPLES, type SampleOptions } from "../infer/mod.ts";
import { HttpError } from "./http.ts";

/** What a `/v1/sample.png` query asks for: the arguments of `generator.sample(n, options)`. */
export interface SampleQuery {
  n: number;
  options: Pick<SampleOptions, "seed" | "digit">;
}

function integerParam(
  params: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = params.get(name);
  if (text === null) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new HttpError(400, `${name} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

const PARAMS = ["seed", "n", "digit"];

/**
 * Reads the query of `/v1/sample.png`: `seed`, `n` and `digit`, the arguments of `generator.sample`.
 * @throws {HttpError} 400 for an unknown or bad parameter.
 */
export function parseSampleQuery(params: URLSearchParams, maxRows: number): SampleQuery {
  for (const key of params.keys()) {
    if (!PARAMS.includes(key)) {
      throw new HttpError(400, `unknown query parameter "${key}"; use ${PARAMS.join(", ")}`);
    }
  }
  const n = integerParam(params, "n", 64, 1, Math.min(maxRows, MAX_SAMPLES));
  const seed = integerParam(params, "seed", 0, 0, Number.MAX_SAFE_INTEGER);
  if (!params.has("digit")) return { n, options: { seed } };
  return { n, options: { seed, digit: integerParam(params, "digit", 0, 0, 9) } };
}
