/**
 * Runs the project's PyTorch peer (`peer_torch.py` beside this file: the reference network and step in PyTorch)
 * and reads its figures. A peer on an unoptimised BLAS runs several times slower than PyTorch should, so the
 * benches print no ratio against it: {@link peerRatioRefusal} says why and how to fix it.
 * @module
 */

/** The peer script shipped with the project. */
export const PEER_SCRIPT: string = new URL("./peer_torch.py", import.meta.url).pathname;

/** Where Debian's OpenBLAS (OpenMP build) puts its `libblas.so.3`; the peer runs with it first on the path. */
export const OPENBLAS_LIBRARY_PATH = "/usr/lib/x86_64-linux-gnu/openblas-openmp";

/** How to put the peer on an optimised BLAS, for messages. */
export const PEER_BLAS_FIX =
  "apt-get install -y python3-torch libopenblas0-openmp, then run with " +
  `LD_LIBRARY_PATH=${OPENBLAS_LIBRARY_PATH}`;

/** One generator row of the peer: batch size, median ms per batch, samples per second. */
export interface PeerInferRow {
  batch: number;
  msPerBatch: number;
  samplesPerSecond: number;
}

/** The peer's figures. */
export interface PeerResult {
  name: string;
  /** Median milliseconds per training step (batch 32). */
  msPerStep: number;
  torch: string;
  /** The BLAS library the peer loaded, as it reports it (`openblas (/path/libblas.so.3)`). */
  blas: string;
  /** Whether that BLAS is an optimised one (OpenBLAS, MKL or BLIS). */
  blasOptimised: boolean;
  threads: number;
  /** The machine's fastest fp32 matrix rate the peer measured, GFLOP/s. */
  gemmGflops: number | null;
  /** The step time the peer derives from that rate. */
  floorMs: number | null;
  /** Generator samples per second by batch size. */
  infer: PeerInferRow[];
}

/** Where and how the peer runs. */
export interface PeerOptions {
  /** A python with torch (default `/usr/bin/python3`, Debian's). */
  python?: string;
  /** The peer script (default {@link PEER_SCRIPT}). */
  script?: string;
  threads: number;
  /** Timed training steps. */
  steps: number;
  warmup?: number;
  /** Generator batch sizes to time (default 1, 32, 256). */
  batches?: number[];
}

const DEFAULT_PYTHON = "/usr/bin/python3";

/** Returns why the peer cannot run here, or null when its python has torch. */
export async function peerUnavailable(options: PeerOptions): Promise<string | null> {
  const script = options.script ?? PEER_SCRIPT;
  const python = options.python ?? DEFAULT_PYTHON;
  try {
    await Deno.stat(script);
  } catch {
    return `peer script not found: ${script}`;
  }
  try {
    const probe = await new Deno.Command(python, {
      args: ["-c", "import torch"],
      stdout: "null",
      stderr: "null",
    }).output();
    return probe.success ? null : `${python} has no torch (${PEER_BLAS_FIX})`;
  } catch {
    return `${python} not found (${PEER_BLAS_FIX})`;
  }
}

/** Parses the peer's stdout. */
export function parsePeerOutput(text: string, threads: number): PeerResult {
  const step = text.match(/^TRAIN step median ([\d.]+) ms/m);
  if (!step) throw new Error("peer output has no 'TRAIN step median' line");
  const gemm = [...text.matchAll(/^SGEMM .*: ([\d.]+) GFLOP\/s/gm)].map((m) => Number(m[1]));
  const floor = text.match(/^floor: train step >= (\d+) ms/m);
  const infer = [
    ...text.matchAll(/^INFER batch (\d+): median ([\d.]+) ms -> ([\d.]+) samples\/s/gm),
  ]
    .map(([, batch, ms, rate]) => ({
      batch: Number(batch),
      msPerBatch: Number(ms),
      samplesPerSecond: Number(rate),
    }));
  return {
    name: "PyTorch CPU (src/bench/peer_torch.py)",
    msPerStep: Number(step[1]),
    torch: text.match(/^torch (\S+),/m)?.[1] ?? "unknown",
    blas: text.match(/^BLAS loaded: (.*)$/m)?.[1] ?? "unknown",
    blasOptimised: /^BLAS optimised: yes$/m.test(text),
    threads,
    gemmGflops: gemm.length ? Math.max(...gemm) : null,
    floorMs: floor ? Number(floor[1]) : null,
    infer,
  };
}

/** Runs the peer with `threads` threads, OpenBLAS (OpenMP) first on the library path. */
export async function runPeer(options: PeerOptions): Promise<PeerResult> {
  const libraryPath = [OPENBLAS_LIBRARY_PATH, Deno.env.get("LD_LIBRARY_PATH")].filter(Boolean);
  const out = await new Deno.Command(options.python ?? DEFAULT_PYTHON, {
    args: [
      options.script ?? PEER_SCRIPT,
      "--threads",
      String(options.threads),
      "--steps",
      String(options.steps),
      "--warmup",
      String(options.warmup ?? 3),
      "--batches",
      (options.batches ?? [1, 32, 256]).join(","),
    ],
    env: { OMP_NUM_THREADS: String(options.threads), LD_LIBRARY_PATH: libraryPath.join(":") },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1);
    throw new Error(`peer failed: ${err}`);
  }
  return parsePeerOutput(new TextDecoder().decode(out.stdout), options.threads);
}

/**
 * Why no ratio may be taken against this peer, or null when it may: a peer on the reference BLAS would make
 * the project look several times better than it is.
 */
export function peerRatioRefusal(peer: PeerResult): string | null {
  if (peer.blasOptimised) return null;
  return `no ratio: the PyTorch peer ran on an unoptimised BLAS (${peer.blas}), several times slower ` +
    `than PyTorch should be. Fix: ${PEER_BLAS_FIX}`;
}
