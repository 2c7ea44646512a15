/**
 * Build, serve and measure the browser demo: bundle the page, copy onnxruntime-web's runtime files and the
 * generator into a self-contained static folder, serve it locally with COOP/COEP headers, and drive it in
 * headless Chromium (`deno task bench:web`, the demo's test).
 * @module
 */
export {
  type BuildOptions,
  type BuildReport,
  buildSite,
  DEFAULT_DIST_DIR,
  DEFAULT_MODEL_PATH,
  type FetchedWhen,
  formatBytes,
  REPO_ROOT,
  SiteBuildError,
  type SiteFile,
} from "./build.ts";
export { renderDoc } from "./docs.ts";
export { benchLayers, type LayerBenchResult, type LayerTiming } from "./layer_bench.ts";
export { DEFAULT_WEB_WEIGHTS, WEB_WEIGHTS, webModel, type WebWeights } from "./web_model.ts";
export {
  contentTypeFor,
  type CountingServer,
  MIME_TYPES,
  resolveUrlPath,
  type SentFile,
  serveCounting,
  type ServeOptions,
  serveSite,
  SITE_HEADERS,
  staticSiteHandler,
} from "./server.ts";
export { type BrowserSession, CHROMIUM_PATH, haveChromium, openBrowser } from "./browser.ts";
export {
  benchWebDemo,
  type FetchedFile,
  type GenerationTiming,
  type WalkTiming,
  type WebBenchOptions,
  type WebBenchResult,
} from "./bench.ts";
