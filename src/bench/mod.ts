/**
 * Training-speed benchmark: the project's real training step timed per engine and backend (with a profile of
 * each), and the PyTorch peer.
 * @module
 */
export {
  benchTrainStep,
  median,
  type StepBenchOptions,
  type StepBenchResult,
} from "./train_step_bench.ts";
export { chargeOf } from "./engine_profile.ts";
export {
  parsePeerOutput,
  PEER_SCRIPT,
  type PeerInferRow,
  type PeerOptions,
  peerRatioRefusal,
  type PeerResult,
  peerUnavailable,
  runPeer,
} from "./peer.ts";
