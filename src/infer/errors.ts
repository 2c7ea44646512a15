/**
 * Errors raised by the inference module. Each carries a message meant for the user: what is wrong and what to do.
 * CLIs print `message` alone (one line, no stack trace) for any {@link InferenceError}.
 */

/** Base class of every error the inference module raises on purpose. */
export class InferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InferenceError";
  }
}

/** The model file is not an ONNX generator this module can run (not ONNX, wrong input or output shape, ...). */
export class ModelError extends InferenceError {
  constructor(message: string) {
    super(message);
    this.name = "ModelError";
  }
}

/** The requested provider is unknown or cannot run here (missing files, no adapter, ...). */
export class ProviderError extends InferenceError {
  constructor(message: string) {
    super(message);
    this.name = "ProviderError";
  }
}

/** A call received bad arguments (latents of the wrong length, a sample count out of range, ...). */
export class InputError extends InferenceError {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}
