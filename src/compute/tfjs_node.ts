/**
 * Loading `@tensorflow/tfjs-node` and saying in one short line why it did not load.
 * @module
 */
import { basename, dirname, join } from "node:path";

/** The install command printed where tfjs-node is wanted. */
export const TFJS_NODE_INSTALL =
  "deno install --allow-scripts=npm:@tensorflow/tfjs-node npm:@tensorflow/tfjs-node@4.22.0";

const MISSING_BINDING = /tfjs_binding\.node\) can not be found at path: (\S+?tfjs_binding\.node)/;

/**
 * One short line for a failed tfjs-node import. A binding missing from the folder it is looked up in
 * (`lib/napi-v8` under Deno, tfjs issue 8581) but present in a sibling `napi-v*` folder gets the copy
 * command that fixes it; `siblings` lists the binding files that exist (injected by tests).
 */
export function describeTfjsNodeFailure(
  message: string,
  siblings: (libFolder: string) => string[] = bindingsBeside,
): string {
  const missing = message.match(MISSING_BINDING)?.[1];
  if (!missing) {
    const first = message.split("\n")[0].trim();
    return first.length > 120 ? `${first.slice(0, 117)}...` : first;
  }
  const wanted = dirname(missing);
  const found = siblings(dirname(wanted)).filter((path) => dirname(path) !== wanted);
  if (found.length > 0) {
    return `its binding is in ${basename(dirname(found[0]))}/ but is looked up in ${
      basename(wanted)
    }/ (tfjs issue 8581); fix: cp -r ${dirname(found[0])}/. ${wanted}/`;
  }
  return "installed without its native binding (its install script did not run)";
}

function bindingsBeside(libFolder: string): string[] {
  try {
    return [...Deno.readDirSync(libFolder)]
      .filter((entry) => entry.isDirectory && entry.name.startsWith("napi-v"))
      .map((entry) => join(libFolder, entry.name, "tfjs_binding.node"))
      .filter((path) => {
        try {
          return Deno.statSync(path).isFile;
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

/** Imports tfjs-node (registering the `tensorflow` backend); returns null, or why it failed in one line. */
export async function loadTfjsNode(): Promise<string | null> {
  try {
    // The specifier is built at run time so that Deno does not require the package to be installed.
    const specifier = ["npm:@tensorflow", "tfjs-node@4.22.0"].join("/");
    await import(specifier);
    return null;
  } catch (e) {
    return describeTfjsNodeFailure((e as Error).message);
  }
}
