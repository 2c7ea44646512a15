/**
 * A worker of the page's {@link import("./wasm_pool.ts").WasmPool}: one generator on onnxruntime-web's WebAssembly
 * build, one thread, answering the pool's requests (see `PoolRequest` and `PoolReply`).
 * @module
 */
import { createGenerator, type Generator } from "../../src/infer/browser.ts";
import type { PoolReply, PoolRequest } from "./wasm_pool.ts";

/** The parts of a worker's global scope used here (Deno's types describe a window). */
interface WorkerScope {
  postMessage(message: PoolReply, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent<PoolRequest>) => void): void;
}

const scope = globalThis as unknown as WorkerScope;
let generator: Promise<Generator> | null = null;

async function answer(request: PoolRequest): Promise<void> {
  if (request.type === "open") {
    generator = createGenerator(request.bytes, {
      provider: "wasm",
      threads: 1,
      wasmPaths: request.wasmPaths,
      classifier: request.classifier,
    });
    await generator;
    scope.postMessage({ type: "done", id: request.id });
    return;
  }
  if (generator === null) throw new Error("the worker has no model open");
  const opened = await generator;
  if (request.type === "generate") {
    const images = await opened.generate(request.latents);
    scope.postMessage({ type: "images", id: request.id, images }, [images.data.buffer]);
  } else {
    const { latents } = await opened.findDigits(request.count, {
      seed: request.seed,
      digit: request.digit,
    });
    scope.postMessage({ type: "latents", id: request.id, latents }, [latents.buffer]);
  }
}

scope.addEventListener("message", (event) => {
  answer(event.data).catch((error: Error) =>
    scope.postMessage({
      type: "error",
      id: event.data.id,
      name: error.name,
      message: error.message,
    })
  );
});
