import { DataType, type ModelProto, type ValueInfoProto } from "../onnx_proto/mod.ts";

/** What an exported graph contains. */
export interface GraphSummary {
  opset: number;
  /** Operator type → number of nodes, in order of first appearance. */
  ops: Record<string, number>;
  /** Number of weights (float32, float16 or int8 initializers). */
  parameters: number;
  /** `name: elem[dims]` of each graph input and output. */
  inputs: string[];
  outputs: string[];
  metadata: Record<string, string>;
}

const ELEM_NAMES: Record<number, string> = {
  [DataType.FLOAT]: "float32",
  [DataType.FLOAT16]: "float16",
  [DataType.INT64]: "int64",
  [DataType.INT8]: "int8",
};

function describe(v: ValueInfoProto): string {
  const t = v.type.tensorType;
  const dims = t.shape.dim.map((d) => d.dimParam || String(d.dimValue));
  return `${v.name}: ${ELEM_NAMES[t.elemType] ?? t.elemType}[${dims.join(", ")}]`;
}

/** Summarises an ONNX model: operators, parameter count, inputs, outputs and metadata. */
export function summarizeModel(model: ModelProto): GraphSummary {
  const ops: Record<string, number> = {};
  for (const n of model.graph.node) ops[n.opType] = (ops[n.opType] ?? 0) + 1;
  const parameters = model.graph.initializer
    .filter((t) => t.dataType !== DataType.INT64)
    .reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0);
  return {
    opset: model.opsetImport.find((o) => !o.domain)?.version ?? 0,
    ops,
    parameters,
    inputs: model.graph.input.map(describe),
    outputs: model.graph.output.map(describe),
    metadata: Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value])),
  };
}

/** Renders a summary (and the file size) as a few lines of text. */
export function formatGraphSummary(s: GraphSummary, fileBytes: number): string {
  const ops = Object.entries(s.ops).map(([op, n]) => n > 1 ? `${op}×${n}` : op).join(", ");
  const nodes = Object.values(s.ops).reduce((a, b) => a + b, 0);
  return [
    `opset ${s.opset}, ${nodes} nodes: ${ops}`,
    `inputs:  ${s.inputs.join("; ")}`,
    `outputs: ${s.outputs.join("; ")}`,
    `parameters: ${s.parameters.toLocaleString("en-US")}`,
    `file size: ${fileBytes.toLocaleString("en-US")} bytes (${
      (fileBytes / 2 ** 20).toFixed(2)
    } MiB)`,
  ].join("\n");
}
