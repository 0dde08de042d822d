// Builds medner for the browser with esbuild: the library bundle (src/browser.ts ->
// medner.js) and the teaching page's two scripts (page.ts, the UI; engine.ts, the
// worker that trains). One rule makes the engine browser-ready: src/platform/node.ts
// is replaced by src/platform/browser.ts (package.json's "browser" field says the
// same to other bundlers). The WGSL kernels are inlined, so a bundle needs no
// kernels/ beside it. A `node:` import that reaches a bundle fails the build.
//
//   npx tsx examples/web/build.ts [outdir]              (default examples/web/dist)
//   npx tsx examples/web/build.ts --library dist/browser  (medner.js only: the package's `medner/browser`)

import { build, type Metafile, type Plugin } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

const root = fileURLToPath(new URL('../../', import.meta.url));
const NODE_PLATFORM = join(root, 'src/platform/node.ts');
const BROWSER_PLATFORM = join(root, 'src/platform/browser.ts');

/** src/platform/node.js -> src/platform/browser.ts, wherever it is imported from. */
const browserPlatform: Plugin = {
  name: 'medner-browser-platform',
  setup(b) {
    b.onResolve({ filter: /(^|\/)node\.js$/ }, (args) => {
      const target = resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      return target === NODE_PLATFORM ? { path: BROWSER_PLATFORM } : undefined;
    });
  },
};

export function kernelSources(): Record<string, string> {
  const dir = join(root, 'kernels');
  return Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.wgsl')).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

/** Every module a bundle pulled in that belongs to Node: `node:*` and the bare built-ins. */
export function nodeImports(metafile: Metafile): string[] {
  const builtin = /^(node:|(fs|path|os|url|worker_threads|child_process|readline|crypto|stream|util|events|buffer|module)(\/|$))/;
  const found = new Set<string>();
  for (const [file, input] of Object.entries(metafile.inputs)) {
    if (builtin.test(file)) found.add(file);
    for (const imported of input.imports) if (builtin.test(imported.path)) found.add(`${imported.path} (from ${file})`);
  }
  for (const output of Object.values(metafile.outputs)) for (const imported of output.imports) if (builtin.test(imported.path)) found.add(imported.path);
  return [...found];
}

export interface BuiltBundles {
  outdir: string;
  files: string[];
  metafile: Metafile;
}

export async function buildBrowser(outdir = join(root, 'examples/web/dist'), options: { minify?: boolean; libraryOnly?: boolean } = {}): Promise<BuiltBundles> {
  const page = { engine: join(root, 'examples/web/engine.ts'), page: join(root, 'examples/web/page.ts') };
  const result = await build({
    entryPoints: { medner: join(root, 'src/browser.ts'), ...(options.libraryOnly ? {} : page) },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome113',
    sourcemap: true,
    minify: options.minify ?? false,
    metafile: true,
    logLevel: 'silent',
    plugins: [browserPlatform],
    // The `webgpu` package (Dawn for Node) is imported only by src/platform/node.ts; should anything else import it, fail.
    define: { __MEDNER_KERNELS__: JSON.stringify(kernelSources()) },
  });
  const leaked = nodeImports(result.metafile);
  if (leaked.length > 0) throw new Error(`browser bundle: Node modules reached it: ${leaked.join(', ')}`);
  return { outdir, files: Object.keys(result.metafile.outputs), metafile: result.metafile };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const libraryOnly = process.argv[2] === '--library';
  const target = libraryOnly ? process.argv[3] : process.argv[2];
  const built = await buildBrowser(target ? resolve(target) : undefined, { libraryOnly });
  for (const file of built.files.filter((f) => f.endsWith('.js'))) console.log(`${file}  ${(built.metafile.outputs[file]!.bytes / 1024).toFixed(0)} KiB`);
}
