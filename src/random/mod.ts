/**
 * Seeded, platform-independent random numbers (uniform and normal) shared by training, inference and the web demo.
 * It has no dependencies so it can be bundled for browsers.
 * @module
 */
export { latentsForSeed, Rng, type RngState } from "./rng.ts";
