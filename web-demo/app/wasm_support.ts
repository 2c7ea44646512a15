/**
 * A minimal WebAssembly module whose one function returns a SIMD `v128.const 0`: it validates only
 * where the browser supports WebAssembly SIMD, which onnxruntime-web's WASM backend requires.
 */
export const SIMD_PROBE: Uint8Array<ArrayBuffer> = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // "\0asm", version 1
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7b, // type section: () -> v128
  0x03,
  0x02,
  0x01,
  0x00, // function section: one function of type 0
  0x0a,
  0x16,
  0x01,
  0x14,
  0x00,
  0xfd,
  0x0c,
  ...new Array(16).fill(0),
  0x0b, // code: v128.const 0
]);

/**
 * Why onnxruntime-web's WASM backend cannot run in this browser, or null when it can. `wasm` is the
 * engine's `WebAssembly` object (another one in tests).
 */
export function wasmUnsupportedReason(
  wasm: Pick<typeof WebAssembly, "validate"> | undefined = globalThis.WebAssembly,
): string | null {
  if (typeof wasm !== "object" || typeof wasm.validate !== "function") {
    return "This browser does not run WebAssembly, which the generator needs.";
  }
  if (!wasm.validate(SIMD_PROBE)) {
    return "This browser's WebAssembly lacks SIMD, which ONNX Runtime Web needs; " +
      "a current Chrome, Edge, Firefox or Safari has it.";
  }
  return null;
}
