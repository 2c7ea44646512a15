/**
 * The messages and shared-memory layout between the main thread and a kernel worker.
 * @module
 */

/** One input of a worker job: `length` float32 values at byte `offset` of the job buffer. */
export interface JobInput {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

/** A kernel call for a worker; inputs and the output live in `buffer` (a SharedArrayBuffer). */
export interface KernelJob {
  kernel: string;
  attrs: Record<string, unknown>;
  inputs: JobInput[];
  /** Byte offset of the output in `buffer`; the worker writes at most `outputCapacity` floats. */
  outputOffset: number;
  outputCapacity: number;
  /** Sent only when the buffer changed (it grew). */
  buffer?: SharedArrayBuffer;
}

/** Slots of the control word array shared with each worker. */
export const CONTROL = {
  /** Job state: IDLE, BUSY, DONE or FAILED. */
  state: 0,
  /** Number of float32 values the worker wrote. */
  outputLength: 1,
  /** Byte length of the UTF-8 error text the worker wrote at offset 0 of the error buffer. */
  errorLength: 2,
  /** Number of slots. */
  size: 4,
} as const;

/** Job states stored at {@link CONTROL.state}. */
export const STATE = { IDLE: 0, BUSY: 1, DONE: 2, FAILED: 3 } as const;

/** Data handed to a worker when it starts. */
export interface WorkerInit {
  control: SharedArrayBuffer;
  errors: SharedArrayBuffer;
}

/** Bytes reserved for a worker's error message. */
export const ERROR_BYTES = 4096;
