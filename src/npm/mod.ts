/**
 * The npm package of the inference module: `buildNpmPackage` bundles, declares, packs (`deno task build:npm`).
 * @module
 */
export {
  buildNpmPackage,
  DEFAULT_NPM_OUT,
  type NpmBuild,
  NpmBuildError,
  REPO_ROOT,
} from "./build.ts";
