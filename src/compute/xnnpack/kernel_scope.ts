/**
 * Runs registered TF.js kernels of one backend directly on `TensorInfo`s (no engine, no tape), and frees every
 * intermediate result when the scope ends. The project's composite kernels are built from these calls.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Calls kernels of one backend and remembers their outputs so that {@link KernelScope.close} frees them. */
export class KernelScope {
  private readonly owned: tf.TensorInfo[] = [];

  constructor(
    private readonly backend: tf.KernelBackend,
    private readonly backendName: string,
  ) {}

  /** Runs kernel `name` (e.g. `"Conv2D"`) and returns its single output, owned by this scope. */
  run(
    name: string,
    inputs: Record<string, tf.TensorInfo> | tf.TensorInfo[],
    attrs: tf.NamedAttrMap = {},
  ): tf.TensorInfo {
    const config = tf.getKernel(name, this.backendName);
    if (config === undefined) {
      throw new Error(`kernel ${name} is not registered for backend ${this.backendName}`);
    }
    const out = config.kernelFunc({
      inputs: inputs as tf.NamedTensorInfoMap,
      attrs,
      backend: this.backend,
    });
    const info = Array.isArray(out) ? out[0] : out;
    this.owned.push(info);
    return info;
  }

  /** Takes ownership of `info` (made by the backend directly) so that {@link KernelScope.close} frees it. */
  adopt(info: tf.TensorInfo): tf.TensorInfo {
    this.owned.push(info);
    return info;
  }

  /** Hands `info` to the caller: {@link KernelScope.close} will not free it. */
  keep(info: tf.TensorInfo): tf.TensorInfo {
    const i = this.owned.lastIndexOf(info);
    if (i >= 0) this.owned.splice(i, 1);
    return info;
  }

  /** Frees every output this scope still owns. */
  close(): void {
    for (const info of this.owned) this.backend.disposeData(info.dataId);
    this.owned.length = 0;
  }
}

/** Runs `body` with a fresh {@link KernelScope}; the returned info is kept, everything else is freed. */
export function withKernelScope(
  backend: tf.KernelBackend,
  backendName: string,
  body: (scope: KernelScope) => tf.TensorInfo,
): tf.TensorInfo {
  const scope = new KernelScope(backend, backendName);
  try {
    return scope.keep(body(scope));
  } finally {
    scope.close();
  }
}
