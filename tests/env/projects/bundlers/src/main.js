// The main thread: the package's default entry, bundled with no
// configuration, and weave-usage/stats (its own module); then a module
// worker that uses the default entry too.
import * as w from 'weave-usage';
import * as s from 'weave-usage/stats';
import { probe, statsProbe } from '../probe.mjs';

window.results = { main: probe(w), stats: statsProbe(s) };
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
worker.onmessage = (e) => {
  window.results.worker = e.data;
  document.title = 'done';
};
worker.onerror = (e) => {
  window.results.worker = { failed: String(e.message ?? e) };
  document.title = 'done';
};
