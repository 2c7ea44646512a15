/**
 * The training engines, as a registry of named choices: `onnxruntime` (the compiled step: each update one
 * onnxruntime-node call on a device) and `tfjs` (the reference step on the TF.js backend). Each says whether it
 * can run here and why not; `auto` takes the first available one in priority order and says why.
 * @module
 */
import { BackendError } from "./backends.ts";
import type { DeviceName } from "./engine/compiled_step.ts";
import { loadOrtBinding } from "./ort/runtime.ts";

/** Engines a user may ask for on the command line. */
export const ENGINE_NAMES = ["auto", "onnxruntime", "tfjs"] as const;
/** An engine name accepted by {@link chooseEngine}. */
export type EngineName = typeof ENGINE_NAMES[number];

/** What {@link chooseEngine} chose and why. */
export interface EngineChoice {
  name: Exclude<EngineName, "auto">;
  /** A sentence for the log saying why this engine runs the steps. */
  reason: string;
}

interface Engine {
  name: Exclude<EngineName, "auto">;
  /** Null when the engine can run on `device` here, else why not. */
  available(device: DeviceName): string | null;
  /** Why `auto` prefers it, for the log. */
  strength: string;
}

/** In `auto`'s order: the compiled step first, as `deno task bench:train` measures it faster on every CPU tried. */
const ENGINES: readonly Engine[] = [
  {
    name: "onnxruntime",
    available: () => loadOrtBinding(),
    strength: "the compiled step",
  },
  {
    name: "tfjs",
    available: (device) =>
      device === "cpu" ? null : `the TF.js step runs on its backend, not on --device ${device}`,
    strength: "the reference step on the TF.js backend",
  },
];

/**
 * Picks the engine that runs the training steps: `requested` by name, or with `auto` the first available one.
 * @throws {BackendError} when an engine asked for by name cannot run here (the message says what to do).
 */
export function chooseEngine(requested: EngineName, device: DeviceName): EngineChoice {
  if (requested !== "auto") {
    const engine = ENGINES.find((e) => e.name === requested)!;
    const why = engine.available(device);
    if (why !== null) {
      throw new BackendError(`--engine ${requested}: not usable here (${why})`);
    }
    return { name: engine.name, reason: `requested with --engine ${requested}` };
  }
  const skipped: string[] = [];
  for (const engine of ENGINES) {
    const why = engine.available(device);
    if (why !== null) {
      skipped.push(`${engine.name} is not available: ${why}`);
      continue;
    }
    const because = skipped.length === 0 ? "the first choice" : skipped.join("; ");
    return { name: engine.name, reason: `auto: ${engine.name}, ${engine.strength} (${because})` };
  }
  throw new BackendError(`auto: no engine works here: ${skipped.join("; ")}`);
}
