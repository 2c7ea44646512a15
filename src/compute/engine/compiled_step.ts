/**
 * The three update graphs of {@link StepSpec} compiled into onnxruntime-node sessions, with the training state
 * kept between calls: each state tensor has two buffers, a call reads one and writes the other, and they swap.
 * Nothing goes through TF.js in a step; the state is read or written in the engine's layout only when it moves
 * to or from TF.js (start, checkpoint, evaluation).
 * @module
 */
import { createRequire } from "node:module";
import { BackendError } from "../backends.ts";
import { probeNchwcBlock, type ProbeSession } from "./blocked_conv.ts";
import {
  fakeUpdateGraph,
  generatorUpdateGraph,
  type GraphValue,
  NEXT,
  realUpdateGraph,
  RESULTS,
  sharedName,
  sharedShapes,
  type StepSpec,
  type UpdateGraph,
} from "./updates.ts";

/** Where the compiled step runs: onnxruntime-node's execution providers. */
export const DEVICE_NAMES = ["cpu", "webgpu", "cuda"] as const;
/** A device accepted by {@link CompiledStep.create}. */
export type DeviceName = typeof DEVICE_NAMES[number];

/** Options of {@link CompiledStep.create}. */
export interface CompiledStepOptions {
  device: DeviceName;
  /** Intra-op threads of the CPU kernels (default: logical CPUs). */
  threads?: number;
  /** Write onnxruntime's per-node profile of every call to files with this prefix. */
  profilePrefix?: string;
  /**
   * On the CPU, run Convs in onnxruntime's blocked NCHWc kernels where this CPU has them (default true; false
   * keeps plain ONNX Convs, the same function).
   */
  blockedConv?: boolean;
}

/** What one update graph reports. */
export interface UpdateResult {
  loss: number;
  /** Accuracy against the clean labels (NaN for the generator update, which reports none). */
  accuracy: number;
  /** Sum of the predictions: not finite when one prediction is not. */
  predictionSum: number;
}

interface OrtTensor {
  readonly data: unknown;
}

interface OrtSession {
  run(
    feeds: Record<string, OrtTensor>,
    fetches: Record<string, OrtTensor>,
  ): Promise<Record<string, OrtTensor>>;
  endProfiling(): void;
  release(): Promise<void>;
}

interface OrtNode {
  Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => OrtTensor;
  InferenceSession: {
    create(bytes: Uint8Array, options: object): Promise<OrtSession & ProbeSession>;
  };
}

/** A state tensor: the current buffer, and the one the next call writes. */
interface StateBuffers {
  shape: number[];
  current: Float32Array;
  spare: Float32Array;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** onnxruntime-node's session options for a device. */
function sessionOptions(options: CompiledStepOptions, graph: UpdateGraph["name"]): object {
  const threads = options.threads ?? navigator.hardwareConcurrency ?? 1;
  return {
    executionProviders: [options.device],
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    // Warnings only (a GPU provider leaves shape ops on the CPU, which onnxruntime reports on every session).
    logSeverityLevel: 3,
    enableProfiling: options.profilePrefix !== undefined,
    // Each session keeps its own CPU memory arena: without it the step's buffers are allocated (and their pages
    // touched) afresh on every call, 13 % slower (three interleaved pairs: 493–532 against 574–735 ms per
    // step), for 250 MB less peak memory.
    enableCpuMemArena: true,
    profileFilePrefix: `${options.profilePrefix}-${graph}`,
    // The three sessions run one after the other: a session's threads sleep while another's work.
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  };
}

/** The compiled training step: three sessions and the state they share. */
export class CompiledStep {
  private constructor(
    private readonly ort: OrtNode,
    private readonly sessions: Map<
      UpdateGraph["name"],
      { session: OrtSession; graph: UpdateGraph }
    >,
    private readonly state: Map<string, StateBuffers>,
    private readonly scratch: Map<string, Float32Array>,
  ) {}

  /**
   * Builds the three graphs of `spec` and compiles them for `options.device`. All state starts at zero: set it
   * with {@link CompiledStep.write} before the first step.
   * @throws {BackendError} when the device cannot run the graphs (the message says why).
   */
  static async create(
    stepSpec: Omit<StepSpec, "nchwcBlock">,
    options: CompiledStepOptions,
  ): Promise<CompiledStep> {
    const ort = createRequire(import.meta.url)("onnxruntime-node") as OrtNode;
    const blocked = options.device === "cpu" && options.blockedConv !== false;
    const spec: StepSpec = { ...stepSpec, nchwcBlock: blocked ? await probeNchwcBlock(ort) : null };
    const shapes = sharedShapes(spec.generator, spec.batch);
    const graphs = [
      realUpdateGraph(spec),
      fakeUpdateGraph(spec, shapes),
      generatorUpdateGraph(spec, shapes),
    ];
    const state = new Map<string, StateBuffers>();
    const scratch = new Map<string, Float32Array>();
    for (const graph of graphs) {
      for (const output of graph.outputs) {
        if (output.name.endsWith(NEXT)) {
          const name = output.name.slice(0, -NEXT.length);
          if (!state.has(name)) {
            const size = sizeOf(output.shape);
            state.set(name, {
              shape: output.shape,
              current: new Float32Array(size),
              spare: new Float32Array(size),
            });
          }
        }
      }
    }
    shapes.forEach((shape, i) => scratch.set(sharedName(i), new Float32Array(sizeOf(shape))));
    const sessions = new Map<UpdateGraph["name"], { session: OrtSession; graph: UpdateGraph }>();
    try {
      for (const graph of graphs) {
        const session = await ort.InferenceSession.create(
          graph.model,
          sessionOptions(options, graph.name),
        );
        sessions.set(graph.name, { session, graph });
      }
    } catch (e) {
      for (const { session } of sessions.values()) await session.release();
      const why = (e as Error).message.split("\n")[0];
      const hint = options.device === "cuda"
        ? "; onnxruntime-node has its CUDA files only when installed with ONNXRUNTIME_NODE_INSTALL=cuda12"
        : "";
      throw new BackendError(
        `--device ${options.device}: onnxruntime-node cannot run the compiled step there (${why})${hint}`,
      );
    }
    return new CompiledStep(ort, sessions, state, scratch);
  }

  /** Names of the state tensors (weights, moving statistics, moments, EMA) with their engine shapes. */
  stateShapes(): Map<string, number[]> {
    return new Map([...this.state].map(([name, s]) => [name, s.shape]));
  }

  /** The current value of a state tensor (a live view: copy it to keep it across steps). */
  read(name: string): Float32Array {
    return this.buffers(name).current;
  }

  /** Sets a state tensor. */
  write(name: string, data: Float32Array): void {
    const buffers = this.buffers(name);
    if (data.length !== buffers.current.length) {
      throw new RangeError(`${name}: ${data.length} values for shape [${buffers.shape}]`);
    }
    buffers.current.set(data);
  }

  private buffers(name: string): StateBuffers {
    const buffers = this.state.get(name);
    if (!buffers) throw new RangeError(`no state tensor ${name}`);
    return buffers;
  }

  /**
   * Runs one update graph on `feeds` (its per-step inputs: images, noise, labels, masks, scalars) and the state,
   * then makes the state it wrote current.
   */
  async run(name: UpdateGraph["name"], feeds: Record<string, Float32Array>): Promise<UpdateResult> {
    const { session, graph } = this.sessions.get(name)!;
    const tensor = (v: GraphValue, data: Float32Array) =>
      new this.ort.Tensor("float32", data, v.shape);
    const inputs: Record<string, OrtTensor> = {};
    for (const v of graph.inputs) {
      const data = feeds[v.name] ?? this.state.get(v.name)?.current ?? this.scratch.get(v.name);
      if (!data) throw new RangeError(`${name} update: no value for input ${v.name}`);
      inputs[v.name] = tensor(v, data);
    }
    const results = {
      loss: new Float32Array(1),
      accuracy: new Float32Array([NaN]),
      predictionSum: new Float32Array(1),
    };
    const fetches: Record<string, OrtTensor> = {};
    const written: StateBuffers[] = [];
    for (const v of graph.outputs) {
      let data: Float32Array;
      if (v.name.endsWith(NEXT)) {
        const buffers = this.state.get(v.name.slice(0, -NEXT.length))!;
        written.push(buffers);
        data = buffers.spare;
      } else if (v.name === RESULTS.loss) data = results.loss;
      else if (v.name === RESULTS.accuracy) data = results.accuracy;
      else if (v.name === RESULTS.predictionSum) data = results.predictionSum;
      else data = this.scratch.get(v.name)!;
      fetches[v.name] = tensor(v, data);
    }
    await session.run(inputs, fetches);
    for (const buffers of written) {
      [buffers.current, buffers.spare] = [buffers.spare, buffers.current];
    }
    return {
      loss: results.loss[0],
      accuracy: results.accuracy[0],
      predictionSum: results.predictionSum[0],
    };
  }

  /** Ends onnxruntime's profiling of every session (writes the profile files). */
  endProfiling(): void {
    for (const { session } of this.sessions.values()) session.endProfiling();
  }

  /** Frees the sessions. */
  async dispose(): Promise<void> {
    for (const { session } of this.sessions.values()) await session.release();
    this.sessions.clear();
  }
}
