/**
 * Build and serve the browser demo: bundle the page, copy onnxruntime-web's runtime files and the
 * generator into a self-contained static folder, and serve it locally with COOP/COEP headers.
 * @module
 */
export {
  type BuildOptions,
  type BuildReport,
  buildSite,
  DEFAULT_DIST_DIR,
  DEFAULT_MODEL_PATH,
  formatBytes,
  isLoadedByPage,
  REPO_ROOT,
  SiteBuildError,
  type SiteFile,
} from "./build.ts";
export {
  contentTypeFor,
  MIME_TYPES,
  resolveUrlPath,
  type ServeOptions,
  serveSite,
  SITE_HEADERS,
  staticSiteHandler,
} from "./server.ts";
