/**
 * Where a training step's time goes (`deno task bench:train --profile`): every TF.js kernel of the backend is
 * wrapped with a timer, and each call is charged to what was running when it ran: a layer's forward pass (the
 * layer's `call`), that layer's backward pass (the gradient of a tape node recorded in that layer), an optimiser's
 * update, or the loss. Kernels are synchronous, so these times are exact; what no kernel covers (tape bookkeeping,
 * tensor uploads and reads, garbage collection, waiting) is the remainder, so the rows sum to the measured step.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { LayersModel } from "@tensorflow/tfjs";

/** What a kernel call was part of. */
interface Context {
  /** A layer's name, an optimiser ("adam D", "adam G"), or null (loss, metrics, glue). */
  owner: string | null;
  /** The layer's class (Conv2D, BatchNormalization, ...), or null. */
  layerClass: string | null;
  phase: "forward" | "backward" | "update";
}

/** One row of a step profile: milliseconds per step spent in one place. */
export interface ProfileRow {
  /** The group: "native convolution", "TF.js ops", "Adam", "data", "other". */
  group: string;
  /** What within the group, e.g. "g_deconv1 (Conv2DTranspose) input gradient". */
  what: string;
  msPerStep: number;
  /** Kernel calls per step. */
  calls: number;
}

/** Convolution kernels; onnxruntime runs them natively when it is the kernel set. */
const CONV_KERNELS = new Set([
  "Conv2D",
  "FusedConv2D",
  "Conv2DBackpropInput",
  "Conv2DBackpropFilter",
]);

/** A profiler attached to the current backend's kernels and to the given models and optimisers. */
export class StepProfiler {
  private readonly stack: Context[] = [];
  private readonly totals = new Map<
    string,
    { group: string; what: string; ms: number; n: number }
  >();
  private readonly restore: (() => void)[] = [];
  private steps = 0;
  private kernelDepth = 0;
  private enabled = false;

  /**
   * Wraps every kernel registered for `tf.getBackend()`, the `call` of every layer of `models`, each optimiser's
   * `applyGradients`, and the engine's tape so gradients are charged to the layer that recorded them.
   * `nativeConvolutions` says whether convolution kernels run in onnxruntime (labels only).
   */
  constructor(
    models: LayersModel[],
    optimizers: Record<string, tf.Optimizer>,
    private readonly nativeConvolutions: boolean,
  ) {
    this.wrapKernels();
    for (const model of models) {
      for (const layer of model.layers) this.wrapLayer(layer);
    }
    for (const [name, optimizer] of Object.entries(optimizers)) this.wrapOptimizer(name, optimizer);
    this.wrapTape();
  }

  /** Starts charging kernel time (after warm-up). */
  start(): void {
    this.enabled = true;
  }

  /** Charges `ms` of work outside kernels (e.g. drawing the batch) to `group`/`what`. */
  charge(group: string, what: string, ms: number): void {
    if (this.enabled) this.add(group, what, ms);
  }

  /** Counts one profiled step. */
  stepDone(): void {
    if (this.enabled) this.steps++;
  }

  /**
   * The rows, per step, largest first, plus "other" = `stepMs` minus everything charged (what no kernel
   * covers), so that they sum to `stepMs`.
   */
  rows(stepMs: number): ProfileRow[] {
    const n = Math.max(1, this.steps);
    const rows = [...this.totals.values()].map((t) => ({
      group: t.group,
      what: t.what,
      msPerStep: t.ms / n,
      calls: t.n / n,
    }));
    const charged = rows.reduce((a, r) => a + r.msPerStep, 0);
    rows.push({
      group: "other",
      what: "outside kernels: tape bookkeeping, tensor uploads/reads, GC, waiting",
      msPerStep: stepMs - charged,
      calls: 0,
    });
    return rows.sort((a, b) => b.msPerStep - a.msPerStep);
  }

  /** Puts every wrapped kernel, layer, optimiser and the tape back as they were. */
  dispose(): void {
    for (const undo of this.restore.reverse()) undo();
    this.restore.length = 0;
  }

  private add(group: string, what: string, ms: number): void {
    const key = `${group}|${what}`;
    const t = this.totals.get(key) ?? { group, what, ms: 0, n: 0 };
    t.ms += ms;
    t.n++;
    this.totals.set(key, t);
  }

  private classify(kernel: string): { group: string; what: string } {
    const ctx = this.stack.at(-1) ?? null;
    if (ctx?.phase === "update") return { group: "Adam", what: ctx.owner! };
    const layer = ctx?.owner ? `${ctx.owner} (${ctx.layerClass})` : "loss and metrics";
    if (CONV_KERNELS.has(kernel)) {
      const direction = ctx?.phase !== "backward"
        ? "forward"
        : kernel === "Conv2DBackpropFilter"
        ? "filter gradient"
        : "input gradient";
      const where = this.nativeConvolutions ? "native convolution" : "wasm convolution";
      return { group: where, what: `${layer} ${direction}` };
    }
    const kind = ctx?.layerClass === "BatchNormalization" ? "BatchNorm" : "TF.js ops";
    return { group: kind, what: `${layer} ${ctx?.phase ?? "forward"}` };
  }

  private wrapKernels(): void {
    const backend = tf.getBackend();
    for (const config of tf.getKernelsForBackend(backend)) {
      const original = config.kernelFunc;
      // A kernel may run others inside it (a fallback, a composite); only the outermost is timed.
      const timed: tf.KernelFunc = (args) => {
        if (!this.enabled || this.kernelDepth > 0) return original(args);
        const t0 = performance.now();
        this.kernelDepth++;
        try {
          return original(args);
        } finally {
          this.kernelDepth--;
          const { group, what } = this.classify(config.kernelName);
          this.add(group, what, performance.now() - t0);
        }
      };
      tf.unregisterKernel(config.kernelName, backend);
      tf.registerKernel({ ...config, kernelFunc: timed });
      this.restore.push(() => {
        tf.unregisterKernel(config.kernelName, backend);
        tf.registerKernel(config);
      });
    }
  }

  private within<T>(ctx: Context, f: () => T): T {
    this.stack.push(ctx);
    try {
      return f();
    } finally {
      this.stack.pop();
    }
  }

  private wrapLayer(layer: tf.layers.Layer): void {
    const original = layer.call;
    const ctx: Context = { owner: layer.name, layerClass: layer.getClassName(), phase: "forward" };
    layer.call = (...args) => this.within(ctx, () => original.apply(layer, args));
    this.restore.push(() => layer.call = original);
  }

  private wrapOptimizer(name: string, optimizer: tf.Optimizer): void {
    const original = optimizer.applyGradients;
    const ctx: Context = { owner: name, layerClass: null, phase: "update" };
    optimizer.applyGradients = (...args) => this.within(ctx, () => original.apply(optimizer, args));
    this.restore.push(() => optimizer.applyGradients = original);
  }

  private wrapTape(): void {
    // A gradient function returns one thunk per input ({ x: () => dx, filter: () => dw }); the engine
    // calls the thunks later, so each is charged to the layer too.
    type Thunks = Record<string, () => tf.Tensor>;
    interface TapeNode {
      gradient?: (dys: tf.Tensor[]) => Thunks;
    }
    const engine = tf.engine() as unknown as {
      addTapeNode(...args: unknown[]): void;
      state: { activeTape: TapeNode[] };
    };
    const original = engine.addTapeNode;
    engine.addTapeNode = (...args: unknown[]) => {
      original.apply(engine, args);
      const recordedIn = this.stack.at(-1) ?? { owner: null, layerClass: null };
      const node = engine.state.activeTape.at(-1);
      const gradient = node?.gradient;
      if (!node || !gradient) return;
      const ctx: Context = { ...recordedIn, phase: "backward" };
      node.gradient = (dys) => {
        const thunks = this.within(ctx, () => gradient(dys));
        return Object.fromEntries(
          Object.entries(thunks).map(([name, f]) => [name, () => this.within(ctx, f)]),
        );
      };
    };
    this.restore.push(() => delete (engine as Partial<typeof engine>).addTapeNode);
  }
}
