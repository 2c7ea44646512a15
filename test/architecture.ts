/**
 * The architecture rules the repo keeps, checked on its real module graph (`deno info --json`):
 * - a folder is a top-level concern under `src/` (its subfolders are its own business), or `scripts/`,
 *   `web-demo/app/`, `web-demo/tools/`;
 * - an import from one folder into another goes through that folder's door: its `mod.ts` (and
 *   `src/infer/browser.ts`, the browser entry of inference);
 * - the folders import each other without cycles.
 */
import { dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../", import.meta.url));

/** Folders whose files the graph starts from. */
const SOURCE_FOLDERS = ["src", "scripts", "web-demo/app", "web-demo/tools"];

/** Files other folders may import besides `mod.ts`. */
const EXTRA_DOORS = new Set(["src/infer/browser.ts"]);

/** One import: from a file to a file, as paths relative to the repo root. */
export interface ImportEdge {
  from: string;
  to: string;
}

/** The folder (concern) a repo file belongs to. */
export function folderOf(path: string): string {
  const parts = path.split("/");
  return parts[0] === "src" && parts.length > 2 ? `src/${parts[1]}` : dirname(path);
}

function isDoor(path: string): boolean {
  return path.endsWith("/mod.ts") && dirname(path) === folderOf(path) || EXTRA_DOORS.has(path);
}

/** Every violation of the rules in `edges`, one line each (none: the architecture holds). */
export function architectureViolations(edges: readonly ImportEdge[]): string[] {
  const problems: string[] = [];
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const [a, b] = [folderOf(from), folderOf(to)];
    if (a === b) continue;
    if (!isDoor(to)) problems.push(`${from} imports ${to}, past the door of ${b}`);
    if (!graph.has(a)) graph.set(a, new Set());
    graph.get(a)!.add(b);
  }
  return [...problems, ...folderCycles(graph).map((c) => `folder cycle: ${c.join(" → ")}`)];
}

/** The cycles of a folder graph, each once, as paths that end where they start. */
function folderCycles(graph: Map<string, Set<string>>): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (node: string) => {
    seen.add(node);
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (path.includes(next)) cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (!seen.has(next)) visit(next);
    }
    path.pop();
    done.add(node);
  };
  for (const node of [...graph.keys()].sort()) if (!done.has(node)) visit(node);
  return cycles;
}

async function sourceFiles(folder: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(`${ROOT}${folder}`)) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory) files.push(...await sourceFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) files.push(path);
  }
  return files;
}

interface InfoModule {
  specifier: string;
  dependencies?: Array<{ code?: { specifier: string }; type?: { specifier: string } }>;
}

/** The repo's imports between its own files, from `deno info --json` on all of its source files. */
export async function repoImports(): Promise<ImportEdge[]> {
  const files = (await Promise.all(SOURCE_FOLDERS.map(sourceFiles))).flat();
  const dir = await Deno.makeTempDir({ prefix: "architecture-" });
  try {
    const root = `${dir}/all.ts`;
    const lines = files.map((f) => `import ${JSON.stringify(new URL(f, `file://${ROOT}`).href)};`);
    await Deno.writeTextFile(root, lines.join("\n") + "\n");
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", root],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    const modules = (JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] })
      .modules;
    const local = (specifier: string) =>
      specifier.startsWith(`file://${ROOT}`) ? relative(ROOT, fileURLToPath(specifier)) : null;
    const edges: ImportEdge[] = [];
    for (const module of modules) {
      const from = local(module.specifier);
      if (from === null) continue;
      for (const dep of module.dependencies ?? []) {
        for (const target of [dep.code?.specifier, dep.type?.specifier]) {
          const to = target === undefined ? null : local(target);
          if (to !== null) edges.push({ from, to });
        }
      }
    }
    return edges;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
