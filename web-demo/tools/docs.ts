import { dirname, join, normalize, posix } from "node:path";
import { Marked, type Tokens } from "marked";

/**
 * The project's Markdown documents the site carries as HTML pages (repository path → page path), so that the
 * demo's "project README" link shows a page that reads properly offline, not Markdown source.
 */
export const DOC_PAGES: Readonly<Record<string, string>> = {
  "README.md": "readme.html",
  "models/README.md": "models/readme.html",
};

/** The stylesheet of the document pages (copied from `web-demo/`). */
export const DOC_STYLESHEET = "readme.css";

/** What a link of a document points to once the site is built. */
type Target =
  | { kind: "as-is" }
  | { kind: "page"; href: string }
  | { kind: "file"; href: string; repoPath: string }
  | { kind: "repository"; repoPath: string };

/** Where the link `href` of the document at `docPath` (repository paths) leads on the site. */
function linkTarget(href: string, docPath: string, image: boolean): Target {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith("#") || href.startsWith("/")) {
    return { kind: "as-is" };
  }
  const [path, fragment] = href.split("#", 2);
  const repoPath = normalize(join(dirname(docPath), decodeURIComponent(path)));
  const from = dirname(DOC_PAGES[docPath]);
  const page = DOC_PAGES[repoPath];
  if (page !== undefined) {
    return { kind: "page", href: posix.relative(from, page) + (fragment ? `#${fragment}` : "") };
  }
  // Images are copied beside the page at their repository path; other files are not on the site.
  if (image) return { kind: "file", href: posix.relative(from, repoPath), repoPath };
  return { kind: "repository", repoPath };
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/**
 * Renders one document: the page's HTML, and the repository files (images) it needs beside it. Links to
 * other documents of {@link DOC_PAGES} lead to their pages; links to files the site does not carry become
 * text that names the file in the repository.
 */
export function renderDoc(markdown: string, docPath: string): { html: string; files: string[] } {
  const files = new Set<string>();
  const repositoryLinks = new WeakSet<Tokens.Link>();
  const marked = new Marked({
    gfm: true,
    walkTokens(token) {
      if (token.type !== "link" && token.type !== "image") return;
      const target = linkTarget(token.href, docPath, token.type === "image");
      if (target.kind === "page" || target.kind === "file") token.href = target.href;
      if (target.kind === "file") files.add(target.repoPath);
      if (target.kind === "repository") {
        token.href = target.repoPath;
        repositoryLinks.add(token as Tokens.Link);
      }
    },
    renderer: {
      link(token) {
        if (!repositoryLinks.has(token)) return false;
        const text = this.parser.parseInline(token.tokens);
        return `<span class="repo-file" title="${
          escapeHtml(`in the repository: ${token.href}`)
        }">${text}</span>`;
      },
    },
  });
  const body = marked.parse(markdown, { async: false });
  const title = /^#\s+(.+)$/m.exec(markdown)?.[1] ?? docPath;
  const root = posix.relative(dirname(DOC_PAGES[docPath]), ".") || ".";
  const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="color-scheme" content="dark light">
    <title>${escapeHtml(title)} — DCGAN digits</title>
    <link rel="icon" href="${root}/icon.svg" type="image/svg+xml">
    <link rel="stylesheet" href="${root}/${DOC_STYLESHEET}">
  </head>
  <body>
    <nav class="doc-nav"><a href="${root}/index.html">← Back to the demo</a></nav>
    <main class="doc">
${body}
    </main>
  </body>
</html>
`;
  return { html, files: [...files].sort() };
}

/**
 * Writes the pages of {@link DOC_PAGES} and the files they show into the site folder `outDir`, from the
 * repository at `repoRoot`. Returns the site paths written (the stylesheet is a static file of the site).
 */
export async function writeDocs(repoRoot: string, outDir: string): Promise<string[]> {
  const written: string[] = [];
  for (const [docPath, page] of Object.entries(DOC_PAGES)) {
    const { html, files } = renderDoc(await Deno.readTextFile(join(repoRoot, docPath)), docPath);
    await Deno.mkdir(dirname(join(outDir, page)), { recursive: true });
    await Deno.writeTextFile(join(outDir, page), html);
    written.push(page);
    for (const file of files) {
      await Deno.mkdir(dirname(join(outDir, file)), { recursive: true });
      await Deno.copyFile(join(repoRoot, file), join(outDir, file));
      written.push(file);
    }
  }
  return [...new Set(written)].sort();
}
