#!/usr/bin/env node
// A small static file server for localhost: the dashboard (scripts/demo.sh)
// and the browser tests. Serves `root`, plus extra directories mounted under
// URL prefixes (the dashboard gets the built package as /pkg/ without a copy
// that could go stale). Sends .wasm as application/wasm, which the wasm-bindgen
// loader needs for streaming compilation, and never caches.
//
//   node tools/serve.mjs [--port N] [--host H]    # www/, with pkg/ as /pkg/
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/x-ndjson; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/** The headers that make a page cross-origin isolated (SharedArrayBuffer;
 * see docs/parallel.md): for `serve`'s `headers`. */
export const ISOLATED = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** The file a URL path names, or null when it is outside every served directory. */
function locate(pathname, root, mounts) {
  let base = root;
  let rest = pathname;
  for (const [prefix, dir] of Object.entries(mounts)) {
    if (pathname.startsWith(prefix)) {
      base = dir;
      rest = pathname.slice(prefix.length);
      break;
    }
  }
  const file = resolve(base, '.' + sep + rest);
  return file === base || file.startsWith(base + sep) ? file : null;
}

/**
 * Starts serving. `mounts` maps URL prefixes ending in '/' to directories;
 * `headers` go with every file (e.g. COOP and COEP, for a cross-origin
 * isolated page). Port 0 picks a free port. Resolves to { server, url }
 * once listening.
 */
export function serve({ root, mounts = {}, port = 0, host = '127.0.0.1', headers = {} }) {
  root = resolve(root);
  const dirs = Object.fromEntries(Object.entries(mounts).map(([p, d]) => [p, resolve(d)]));
  const server = createServer(async (req, res) => {
    const send = (status, text) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      return send(400, 'bad path');
    }
    let file = locate(pathname, root, dirs);
    if (!file) return send(404, 'not found');
    try {
      let info = await stat(file);
      if (info.isDirectory()) {
        file = join(file, 'index.html');
        info = await stat(file);
      }
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': info.size,
        'cache-control': 'no-store',
        ...headers,
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
    } catch {
      send(404, 'not found');
    }
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      const { port: actual } = server.address();
      done({ server, url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}/` });
    });
  });
}

// Run as a script: the dashboard.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const repo = resolve(fileURLToPath(import.meta.url), '../..');
  const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } } });
  const wanted = values.port === undefined ? 8321 : Number(values.port);
  if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65535) {
    console.error(`serve: --port must be a port number, got ${values.port}`);
    process.exit(2);
  }
  // Cross-origin isolated (everything it loads is its own), so that the
  // dashboard's worker can share a large file with its shard workers in
  // place rather than copy it to each (docs/parallel.md).
  const options = { root: join(repo, 'www'), mounts: { '/pkg/': join(repo, 'pkg') }, host: values.host, headers: ISOLATED };
  let started;
  try {
    started = await serve({ ...options, port: wanted });
  } catch (e) {
    // The default port may be taken; any free one will do then. A port asked
    // for explicitly is not silently replaced.
    if (e.code !== 'EADDRINUSE' || values.port !== undefined) {
      console.error(`serve: cannot listen on ${values.host}:${wanted}: ${e.message}`);
      process.exit(1);
    }
    started = await serve({ ...options, port: 0 });
  }
  console.log(`\nDashboard: ${started.url}\n(serving www/ with pkg/ as /pkg/; Ctrl-C to stop)`);
  process.on('SIGINT', () => {
    started.server.close();
    process.exit(0);
  });
}
