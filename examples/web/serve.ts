// `npm run demo`: builds the browser bundles (build.ts) and serves the teaching page on
// 127.0.0.1 with the two headers that make it cross-origin isolated (COOP/COEP), so the
// CPU backend may share memory with a second thread. Only the page, its bundles and the
// bundled BC5CDR sample are served.
//
//   npm run demo [-- --port 8080]      then open the printed URL in Chrome or Edge

import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBrowser } from './build.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** What may be served: the page and its bundles, and the sample corpus. */
const SERVED = ['examples/web/', 'src/data/sample/'];
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.tsv': 'text/tab-separated-values; charset=utf-8', '.wgsl': 'text/plain; charset=utf-8',
};

export interface DemoServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startDemoServer(options: { port?: number; build?: boolean } = {}): Promise<DemoServer> {
  if (options.build !== false) await buildBrowser();
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    if (path === '/' || path === '/examples/web') {
      response.writeHead(302, { location: '/examples/web/' });
      response.end();
      return;
    }
    const relative = normalize(path.endsWith('/') ? `${path}index.html` : path).replace(/^\/+/, '');
    const headers = {
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cache-control': 'no-store',
    };
    if (!SERVED.some((prefix) => relative.startsWith(prefix)) || relative.includes('..')) {
      response.writeHead(404, headers);
      response.end('not found');
      return;
    }
    try {
      const body = await readFile(join(root, relative));
      response.writeHead(200, { ...headers, 'content-type': TYPES[extname(relative)] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404, headers);
      response.end('not found');
    }
  });
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 8080, '127.0.0.1', ready);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    server,
    url: `http://127.0.0.1:${port}/examples/web/`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--port');
  const port = at > 0 ? Number(process.argv[at + 1]) : Number(process.env.PORT ?? 8080);
  const demo = await startDemoServer({ port });
  console.log(`medner teaching page: ${demo.url}`);
  console.log('open it in Chrome or Edge (WebGPU); other browsers train on the CPU. Ctrl-C stops the server.');
}
