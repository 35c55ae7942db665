// The environment tests' projects: each folder of tests/env/projects/ is a
// fresh project whose package.json pins what it tests with. It is copied to
// a cache outside the clone (WEAVE_USAGE_ENV_CACHE, by default
// ~/.cache/weave-usage/env/), where its npm dependencies are installed once
// and kept until its package.json changes; the package under test is the
// tarball `npm pack` makes of pkg/, installed afresh into each project on
// every run.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../../', import.meta.url));
export const cache = process.env.WEAVE_USAGE_ENV_CACHE ?? join(homedir(), '.cache', 'weave-usage', 'env');
const sources = join(repo, 'tests', 'env', 'projects');

const quiet = ['--no-audit', '--no-fund', '--loglevel=error'];

/** Runs a command; its output, or an error that carries both streams. */
export function run(cmd, args, { cwd, env, timeout = 300_000, input } = {}) {
  try {
    return execFileSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout, input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${e.message}\n--- stdout\n${e.stdout ?? ''}\n--- stderr\n${e.stderr ?? ''}`);
  }
}

let tarball = null;
/** The packed package (npm pack of pkg/), made once per run. */
export function packed() {
  if (tarball === null) {
    const dir = mkdtempSync(join(tmpdir(), 'weave-usage-env-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const [info] = JSON.parse(run('npm', ['pack', join(repo, 'pkg'), '--json', '--pack-destination', dir, ...quiet], { cwd: repo }));
    tarball = join(dir, info.filename);
  }
  return tarball;
}

/**
 * The project `name`, ready: its files copied from tests/env/projects/,
 * its dependencies installed (skipped when the cached copy's match its
 * package.json), and the packed weave-usage installed in node_modules.
 * Returns its directory.
 */
export function project(name) {
  const dir = join(cache, name);
  mkdirSync(dir, { recursive: true });
  cpSync(join(sources, name), dir, { recursive: true });
  // The probe, as an ES module and as CommonJS.
  const probe = readFileSync(join(repo, 'tests', 'env', 'probe.js'), 'utf8');
  writeFileSync(join(dir, 'probe.mjs'), probe);
  writeFileSync(join(dir, 'probe.cjs'), `${probe.replaceAll('export function ', 'function ')}\nmodule.exports = { probe, statsProbe };\n`);
  const manifest = readFileSync(join(sources, name, 'package.json'), 'utf8');
  const stamp = join(dir, 'node_modules', '.env-installed');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== manifest) {
    rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
    rmSync(join(dir, 'package-lock.json'), { force: true });
    run('npm', ['install', '--prefer-offline', ...quiet], { cwd: dir, timeout: 900_000 });
    writeFileSync(stamp, manifest);
  }
  // As `npm install weave-usage-x.y.z.tgz` would, without touching the
  // cached dependencies: the tarball's package/ is node_modules/weave-usage.
  const target = join(dir, 'node_modules', 'weave-usage');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target);
  run('tar', ['-xzf', packed(), '-C', target, '--strip-components=1'], { cwd: dir });
  return dir;
}

/** Starts a long-running command; resolves once `ready` matches its output. */
export function start(cmd, args, { cwd, env, ready, timeout = 120_000 }) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
  };
  process.on('exit', stop);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} ${args.join(' ')}: not ready after ${timeout} ms\n${output}`)), timeout);
    const seen = (d) => {
      output += d;
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve({ output: () => output, stop });
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(' ')} exited (${code}) before it was ready\n${output}`));
    });
  });
}

/** The last line of `output` that parses as JSON. */
export function lastJson(output) {
  const lines = output.trim().split('\n').reverse();
  for (const l of lines) {
    try {
      return JSON.parse(l);
    } catch {}
  }
  throw new Error(`no JSON in:\n${output}`);
}

// Installs every project when run directly (node tests/env/lib.mjs [names]).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const name of process.argv.slice(2)) {
    const t = Date.now();
    project(name);
    console.log(`${name}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
}
