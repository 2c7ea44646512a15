/**
 * Inference rewrites of an exported graph: named passes, each replacing a slow layer by operators that compute
 * the same function faster in onnxruntime (chosen by measurement, see the model card). They work on the ONNX
 * model itself, so they apply at export and to a file exported before them alike, with its own weights.
 * @module
 */
import { GraphEditor } from "./graph_edit.ts";
import { narrowConvAsTranspose } from "./rewrite_narrow_conv.ts";
import { convTransposeFromSubpixel, subpixelConvTranspose } from "./rewrite_subpixel.ts";
import type { ModelProto } from "../onnx_proto/mod.ts";

/** The passes by name. */
export const REWRITE_PASSES = {
  subpixel_conv_transpose: subpixelConvTranspose,
  narrow_conv_as_transpose: narrowConvAsTranspose,
  conv_transpose_from_subpixel: convTransposeFromSubpixel,
} as const satisfies Record<string, (edit: GraphEditor) => string[]>;

/** The name of a pass of {@link REWRITE_PASSES}. */
export type RewritePassName = keyof typeof REWRITE_PASSES;

/**
 * The passes for each kind of runtime, in order, as measured (models/README.md): `native` for onnxruntime-node
 * (what export writes), `web` for onnxruntime-web, whose WebAssembly runs the ConvTranspose faster than the
 * sub-pixel form (the web build derives its model from the exported file with these).
 */
export const REWRITE_PROFILES = {
  native: ["subpixel_conv_transpose", "narrow_conv_as_transpose"],
  web: ["conv_transpose_from_subpixel", "narrow_conv_as_transpose"],
} as const satisfies Record<string, readonly RewritePassName[]>;

/** The metadata key that lists the rewrites a file carries (`pass(node, node); pass(node)`). */
export const REWRITES_METADATA_KEY = "graph_rewrites";

/** What {@link rewriteForInference} did: per pass that changed something, the nodes it rewrote. */
export type AppliedRewrites = Array<{ pass: RewritePassName; nodes: string[] }>;

/** The metadata value of {@link REWRITES_METADATA_KEY} for `applied` ("none" when nothing was rewritten). */
export function describeRewrites(applied: AppliedRewrites): string {
  if (applied.length === 0) return "none";
  return applied.map((a) => `${a.pass}(${a.nodes.join(", ")})`).join("; ");
}

/**
 * A copy of `model` with `passes` applied in their order (default: the `native` profile), the weights they
 * replaced dropped, and the applied rewrites recorded under {@link REWRITES_METADATA_KEY} (after those of an
 * earlier rewrite of the same file). `model` is unchanged.
 */
export function rewriteForInference(
  model: ModelProto,
  passes: readonly RewritePassName[] = REWRITE_PROFILES.native,
): { model: ModelProto; applied: AppliedRewrites } {
  const graph = {
    ...model.graph,
    node: model.graph.node.map((n) => ({ ...n })),
    initializer: [...model.graph.initializer],
  };
  const edit = new GraphEditor(graph);
  const applied: AppliedRewrites = [];
  for (const pass of passes) {
    const nodes = REWRITE_PASSES[pass](edit);
    if (nodes.length > 0) applied.push({ pass, nodes });
  }
  edit.dropUnusedInitializers();
  const earlier = model.metadataProps.find((p) => p.key === REWRITES_METADATA_KEY)?.value;
  const now = describeRewrites(applied);
  const record = earlier === undefined || earlier === "none"
    ? now
    : applied.length === 0
    ? earlier
    : `${earlier}; ${now}`;
  const metadataProps = [
    ...model.metadataProps.filter((p) => p.key !== REWRITES_METADATA_KEY),
    { key: REWRITES_METADATA_KEY, value: record },
  ];
  return { model: { ...model, graph: edit.graph, metadataProps }, applied };
}
