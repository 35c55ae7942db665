// The objects path alone in Node, one build of the package against others:
//   node --expose-gc bench/objects.mjs [--calls N] [--rounds R] [--scenarios plain,dates,some-dates] [PKG_DIR ...]
// PKG_DIR: built packages (scripts/build.sh's pkg/, or a copy of another
// checkout's); default pkg/. Each is loaded as its own module instance.
// Prints progress, then the table (bench/objects-suite.mjs).
import os from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runObjects, objectsTable, SCENARIOS } from './objects-suite.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { calls: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '21' }, scenarios: { type: 'string', default: Object.keys(SCENARIOS).join(',') } },
});
const dirs = positionals.length ? positionals : [new URL('../pkg', import.meta.url).pathname];
const libs = {};
for (const [i, dir] of dirs.entries()) libs[`callsUsage ${i}: ${dir}`] = await import(pathToFileURL(resolve(dir, 'node.js')).href);
if (!globalThis.gc) console.log('(run with --expose-gc for a settled heap before each run)');
console.log(`Node ${process.version}, ${os.cpus()[0].model}, ${os.cpus().length} cores`);
const rows = await runObjects({ libs, env: { gc: () => globalThis.gc?.() }, n: Number(values.calls), rounds: Number(values.rounds), scenarios: values.scenarios.split(','), log: (l) => console.log(l) });
console.log('\n' + objectsTable(rows, 'callsUsage 0'));
if (rows.some((r) => r.agrees === false)) {
  console.error('\nan answer DISAGREES with the JS rollup');
  process.exitCode = 1;
}
