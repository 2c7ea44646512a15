import type { BrowserContext } from "playwright-core";

/** Debian's Chromium, which the demo's test and `deno task bench:web` drive headless. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Chromium flags: WebGPU on (SwiftShader where there is no GPU), no background traffic of its own. */
const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** True when {@link CHROMIUM_PATH} is a file. */
export function haveChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM_PATH).isFile;
  } catch {
    return false;
  }
}

/** A headless Chromium with a fresh profile (an empty cache: every page load is a first visit). */
export interface BrowserSession {
  context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Starts headless Chromium ({@link CHROMIUM_PATH}) through playwright-core with a new temporary profile and a
 * 1280 × 900 viewport. playwright-core is imported here, on first use, so that importing this folder stays light.
 */
export async function openBrowser(): Promise<BrowserSession> {
  const { chromium } = await import("playwright-core");
  const profile = await Deno.makeTempDir({ prefix: "web-demo-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      await Deno.remove(profile, { recursive: true });
    },
  };
}
