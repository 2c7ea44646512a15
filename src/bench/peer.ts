/**
 * Runs the PyTorch peer benchmark (`shared/bench/peer_torch.py`) with OpenBLAS, as its README prescribes, and
 * reads its figures.
 * @module
 */

/** The peer's figures. */
export interface PeerResult {
  name: string;
  /** Median milliseconds per training step (batch 32). */
  msPerStep: number;
  torch: string;
  blas: string;
  threads: number;
  /** The machine's fp32 matrix peak the peer measured, GFLOP/s. */
  gemmGflops: number | null;
  /** The step time the peer derives from that peak. */
  floorMs: number | null;
}

/** Where the peer runs from. */
export interface PeerOptions {
  python: string;
  script: string;
  threads: number;
  steps: number;
}

/** Returns why the peer cannot run here, or null when python has torch. */
export async function peerUnavailable(options: PeerOptions): Promise<string | null> {
  try {
    await Deno.stat(options.script);
  } catch {
    return `peer script not found: ${options.script}`;
  }
  try {
    const probe = await new Deno.Command(options.python, {
      args: ["-c", "import torch"],
      stdout: "null",
      stderr: "null",
    }).output();
    return probe.success ? null : `${options.python} has no torch`;
  } catch {
    return `${options.python} not found`;
  }
}

/** Parses the peer's stdout. */
export function parsePeerOutput(text: string, threads: number): PeerResult {
  const step = text.match(/TRAIN step median ([\d.]+) ms/);
  if (!step) throw new Error("peer output has no 'TRAIN step median' line");
  const torch = text.match(/^torch (\S+),/m)?.[1] ?? "unknown";
  const blas = text.match(/^BLAS loaded: (.*)$/m)?.[1] ?? "unknown";
  const gemm = [...text.matchAll(/^SGEMM .*: ([\d.]+) GFLOP\/s/gm)].map((m) => Number(m[1]));
  const floor = text.match(/train step >= (\d+) ms/);
  return {
    name: "PyTorch CPU (peer_torch.py)",
    msPerStep: Number(step[1]),
    torch,
    blas,
    threads,
    gemmGflops: gemm.length ? Math.max(...gemm) : null,
    floorMs: floor ? Number(floor[1]) : null,
  };
}

/** Runs the peer with OpenBLAS (OpenMP) and `threads` threads. */
export async function runPeer(options: PeerOptions): Promise<PeerResult> {
  const out = await new Deno.Command(options.python, {
    args: [
      options.script,
      "--threads",
      String(options.threads),
      "--steps",
      String(options.steps),
      "--warmup",
      "3",
    ],
    env: {
      OMP_NUM_THREADS: String(options.threads),
      LD_LIBRARY_PATH: "/usr/lib/x86_64-linux-gnu/openblas-openmp",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1);
    throw new Error(`peer failed: ${err}`);
  }
  return parsePeerOutput(text, options.threads);
}
