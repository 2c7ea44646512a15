/**
 * Reads onnxruntime's own per-node profiles of the compiled training step (one JSON file per update graph,
 * written with `enableProfiling`) and charges every node's kernel time to the layer and direction its name was
 * scoped with (`g_conv1/backward/…`), per update graph. Runs before `warmupRuns` are left out.
 * @module
 */
import type { ProfileRow } from "./step_profile.ts";

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

/** The part of the step a scoped node name belongs to: `g_conv1 backward`, `Adam`, `loss`, … */
export function chargeOf(nodeName: string): string {
  // onnxruntime names a node it fused from others "fused <first node's name>".
  const parts = nodeName.replace(/^fused /, "").split("/");
  if (parts.length < 2) return "onnxruntime-inserted nodes";
  if (parts[0] === "adam") return "Adam";
  if (parts[0] === "ema") return "EMA";
  if (parts[0] === "loss") return "loss";
  return `${parts[0]} ${parts[1]}`;
}

/**
 * Rows of milliseconds per step from the profile of one update graph (`graph`: its name), over the runs after
 * the first `warmupRuns`, with the number of operator calls per step.
 */
export function profileRows(
  events: ProfileEvent[],
  graph: string,
  warmupRuns: number,
): ProfileRow[] {
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run")
    .sort((a, b) => a.ts - b.ts);
  const timed = runs.slice(warmupRuns);
  if (timed.length === 0) return [];
  const from = timed[0].ts;
  const totals = new Map<string, { us: number; calls: number }>();
  for (const e of events) {
    if (e.cat !== "Node" || !e.name.endsWith("_kernel_time") || e.ts < from) continue;
    const charge = chargeOf(e.name.slice(0, -"_kernel_time".length));
    const t = totals.get(charge) ?? { us: 0, calls: 0 };
    t.us += e.dur;
    t.calls++;
    totals.set(charge, t);
  }
  return [...totals].map(([what, t]) => ({
    group: `${graph} update`,
    what,
    msPerStep: t.us / 1000 / timed.length,
    calls: t.calls / timed.length,
  })).sort((a, b) => b.msPerStep - a.msPerStep);
}

/** Reads a profile file that onnxruntime wrote. */
export function readProfileFile(path: string): ProfileEvent[] {
  return JSON.parse(Deno.readTextFileSync(path)) as ProfileEvent[];
}
