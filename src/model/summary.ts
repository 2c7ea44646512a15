import type * as tf from "@tensorflow/tfjs";

/** One row of a model summary: a layer, its class, output shape and parameter count. */
export interface LayerSummary {
  name: string;
  className: string;
  outputShape: Array<number | null>;
  params: number;
}

/** Parameter totals of a model, split the way Keras reports them. */
export interface ParamCounts {
  total: number;
  trainable: number;
  nonTrainable: number;
}

function sizeOf(shape: Array<number | null>): number {
  return shape.reduce((a: number, b) => a * (b ?? 1), 1);
}

/** Counts total, trainable and non-trainable parameters of a Layers model. */
export function countParams(model: tf.LayersModel): ParamCounts {
  const trainable = model.trainableWeights.reduce((n, w) => n + sizeOf(w.shape), 0);
  const nonTrainable = model.nonTrainableWeights.reduce((n, w) => n + sizeOf(w.shape), 0);
  return { total: trainable + nonTrainable, trainable, nonTrainable };
}

/** Lists each layer with its output shape (batch as null) and parameter count. */
export function summarizeLayers(model: tf.LayersModel): LayerSummary[] {
  return model.layers.map((layer) => ({
    name: layer.name,
    className: layer.getClassName(),
    outputShape: (layer.outputShape as Array<number | null>).slice(),
    params: layer.countParams(),
  }));
}

/** Renders a Keras-style summary table of a model as text. */
export function formatSummary(model: tf.LayersModel): string {
  const rows = summarizeLayers(model).map((l) => [
    `${l.name} (${l.className})`,
    `(${l.outputShape.map((d) => d ?? "None").join(", ")})`,
    l.params.toLocaleString("en-US"),
  ]);
  const header = ["Layer (type)", "Output shape", "Params"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ");
  const rule = "─".repeat(widths.reduce((a, b) => a + b + 2, -2));
  const counts = countParams(model);
  return [
    `Model: ${model.name}`,
    rule,
    line(header),
    rule,
    ...rows.map(line),
    rule,
    `Total params: ${counts.total.toLocaleString("en-US")}`,
    `Trainable params: ${counts.trainable.toLocaleString("en-US")}`,
    `Non-trainable params: ${counts.nonTrainable.toLocaleString("en-US")}`,
  ].join("\n");
}
