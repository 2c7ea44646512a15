/**
 * Runs the official ONNX checker (Debian's python3-onnx, full check with strict shape inference) on exported
 * files. Skipped with the install command when the module is missing, unless DCGAN_REQUIRE_ONNX_CHECKER=1.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { buildDiscriminator, buildGenerator } from "../src/model/mod.ts";
import {
  compressWeights,
  type ConvertOptions,
  decodeModel,
  encodeModel,
  rewriteForInference,
  type WeightFormat,
} from "../src/onnx/mod.ts";
import { emulateTraining, exportBytes, useWasm } from "./onnx_fixtures.ts";

const PYTHON = "/usr/bin/python3";
const INSTALL = "apt-get install -y python3-onnx";

const CHECK_SCRIPT = `
import sys, onnx
from onnx import shape_inference
for path in sys.argv[1:]:
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    inferred = shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    for o in inferred.graph.output:
        dims = [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]
        print(path.rsplit("/", 1)[-1], o.name, dims)
`;

async function hasOnnxModule(): Promise<boolean> {
  try {
    const { code } = await new Deno.Command(PYTHON, { args: ["-c", "import onnx"], stderr: "null" })
      .output();
    return code === 0;
  } catch {
    return false;
  }
}

const available = await hasOnnxModule();
const required = Deno.env.get("DCGAN_REQUIRE_ONNX_CHECKER") === "1";
if (!available && !required) {
  console.warn(`ONNX checker tests skipped: ${PYTHON} has no onnx module (install: ${INSTALL})`);
}

function classifier(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.averagePooling2d({ poolSize: 2, padding: "same" }),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.25 }),
      tf.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
}

Deno.test({
  name: available || required
    ? "exported files pass the official ONNX checker with full shape inference"
    : `exported files pass the official ONNX checker (skipped: no python3 onnx; ${INSTALL})`,
  ignore: !available && !required,
  async fn() {
    if (!available) throw new Error(`${PYTHON} has no onnx module; install it: ${INSTALL}`);
    await useWasm();
    const g = buildGenerator({ seed: 0 });
    emulateTraining(g, 2);
    const d = buildDiscriminator({ seed: 0 });
    const c = classifier();
    const cases: Array<[string, tf.LayersModel, ConvertOptions]> = [
      ["g.onnx", g, {}],
      ["g_nhwc.onnx", g, { layout: "nhwc" }],
      ["g_bn.onnx", g, { foldBatchNorm: false }],
      ["g_fp16.onnx", g, { precision: "float16" }],
      ["g_fp16io.onnx", g, { precision: "float16", float16Io: true }],
      ["g_op13.onnx", g, { opset: 13 }],
      ["d.onnx", d, {}],
      ["d_nhwc_op14.onnx", d, { layout: "nhwc", opset: 14 }],
      ["c.onnx", c, {}],
    ];
    const dir = await Deno.makeTempDir({ prefix: "onnx_checker_" });
    try {
      const paths = [];
      for (const [name, model, options] of cases) {
        const path = join(dir, name);
        await Deno.writeFile(path, exportBytes(model, options));
        paths.push(path);
      }
      // The generator with smaller weight storage (what the web demo ships), through DequantizeLinear or Cast.
      const compressed: Array<[string, WeightFormat]> = [
        ["g_int11.onnx", { kind: "int", bits: 11 }],
        ["g_int8.onnx", { kind: "int", bits: 8 }],
        ["g_w16.onnx", { kind: "float16" }],
      ];
      for (const [name, format] of compressed) {
        const path = join(dir, name);
        const model = compressWeights(decodeModel(exportBytes(g)), { format });
        await Deno.writeFile(path, encodeModel(model));
        paths.push(path);
      }
      // The inference rewrites (what export writes by default), also under the web demo's int11 storage.
      const rewritten: Array<[string, ConvertOptions, WeightFormat | null]> = [
        ["g_rw.onnx", {}, null],
        ["g_rw_nhwc_op13.onnx", { layout: "nhwc", opset: 13 }, null],
        ["g_rw_fp16.onnx", { precision: "float16" }, null],
        ["g_rw_int11.onnx", {}, { kind: "int", bits: 11 }],
      ];
      for (const [name, options, format] of rewritten) {
        const path = join(dir, name);
        const model = rewriteForInference(decodeModel(exportBytes(g, options))).model;
        await Deno.writeFile(
          path,
          encodeModel(format ? compressWeights(model, { format }) : model),
        );
        paths.push(path);
      }
      const out = await new Deno.Command(PYTHON, { args: ["-c", CHECK_SCRIPT, ...paths] }).output();
      const text = new TextDecoder().decode(out.stdout);
      const errors = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 0, `checker failed:\n${errors}`);
      assertEquals(text.trim().split("\n").filter((l) => !l.startsWith("c.onnx")), [
        "g.onnx g_out ['batch', 1, 28, 28]",
        "g_nhwc.onnx g_out ['batch', 28, 28, 1]",
        "g_bn.onnx g_out ['batch', 1, 28, 28]",
        "g_fp16.onnx g_out ['batch', 1, 28, 28]",
        "g_fp16io.onnx g_out ['batch', 1, 28, 28]",
        "g_op13.onnx g_out ['batch', 1, 28, 28]",
        "d.onnx d_out ['batch', 1]",
        "d_nhwc_op14.onnx d_out ['batch', 1]",
        "g_int11.onnx g_out ['batch', 1, 28, 28]",
        "g_int8.onnx g_out ['batch', 1, 28, 28]",
        "g_w16.onnx g_out ['batch', 1, 28, 28]",
        "g_rw.onnx g_out ['batch', 1, 28, 28]",
        "g_rw_nhwc_op13.onnx g_out ['batch', 28, 28, 1]",
        "g_rw_fp16.onnx g_out ['batch', 1, 28, 28]",
        "g_rw_int11.onnx g_out ['batch', 1, 28, 28]",
      ]);
      const classifierLine = text.trim().split("\n").find((l) => l.startsWith("c.onnx"));
      assertEquals(classifierLine?.endsWith("['batch', 10]"), true, classifierLine);
    } finally {
      await Deno.remove(dir, { recursive: true });
      g.dispose();
      d.dispose();
      c.dispose();
    }
  },
});
