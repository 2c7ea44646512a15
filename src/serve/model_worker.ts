/**
 * The body of the server's model worker (see `worker_model.ts`): a Web Worker that opens the generator and runs
 * it, so that onnxruntime-node, whose `run` holds the thread it is called on for the whole run, never holds the
 * event loop that answers HTTP. It answers one message at a time per request id and stops a request's work
 * between model runs when the main thread cancels it.
 * @module
 */
import type { Generator } from "../infer/mod.ts";
import type { ModelReply, ModelRequest } from "./worker_model.ts";

// A Deno worker has a `location` whose origin is "null" (a file: URL's), and onnxruntime-web, which the inference
// module loads, takes `location.origin` as a URL base as it loads, and fails. The main thread has no `location`;
// neither has the worker, before the module is imported (hence the dynamic import).
Object.defineProperty(globalThis, "location", { value: undefined, configurable: true });
const { createGenerator, imagesToPng } = await import("../infer/mod.ts");

/** The worker's global scope, typed here: the project's type check uses the window's globals. */
const scope = self as unknown as {
  postMessage(message: ModelReply, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent<ModelRequest>) => void) | null;
};

let generator: Generator | null = null;
const running = new Map<number, AbortController>();

function reply(message: ModelReply, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

function failed(id: number | null, e: unknown): ModelReply {
  const error = e as Error;
  return {
    type: "failed",
    id,
    error: { name: error?.name ?? "Error", message: error?.message ?? String(e) },
  };
}

async function open(model: string, provider: string, maxBatch: number): Promise<void> {
  try {
    generator = await createGenerator(model, { provider, maxBatch });
    reply({ type: "opened", info: generator.info, provider: generator.provider });
  } catch (e) {
    reply(failed(null, e));
  }
}

async function work(id: number, task: (g: Generator, signal: AbortSignal) => Promise<ModelReply>) {
  const controller = new AbortController();
  running.set(id, controller);
  try {
    if (generator === null) throw new Error("the model is not open");
    const answer = await task(generator, controller.signal);
    if (!controller.signal.aborted) {
      reply(answer, answer.type === "done" ? [answer.result.buffer as ArrayBuffer] : []);
    }
  } catch (e) {
    if (!controller.signal.aborted) reply(failed(id, e));
  } finally {
    running.delete(id);
  }
}

scope.onmessage = (event: MessageEvent<ModelRequest>) => {
  const message = event.data;
  switch (message.type) {
    case "open":
      return void open(message.model, message.provider, message.maxBatch);
    case "outputs":
      return void work(message.id, async (g, signal) => ({
        type: "done",
        id: message.id,
        result: await g.outputs(message.latents, { signal }),
      }));
    case "png":
      return void work(message.id, async (g, signal) => {
        const images = await g.sample(message.n, { ...message.options, signal });
        return { type: "done", id: message.id, result: imagesToPng(images) };
      });
    case "cancel":
      return void running.get(message.id)?.abort();
    case "dispose":
      for (const controller of running.values()) controller.abort();
      return void (generator?.dispose() ?? Promise.resolve()).then(
        () => reply({ type: "disposed" }),
        () => reply({ type: "disposed" }),
      );
  }
};
