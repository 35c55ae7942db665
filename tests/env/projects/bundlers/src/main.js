// The main thread: the package's default entry, bundled with no
// configuration; then a module worker that uses it too.
import * as w from 'weave-usage';
import { probe } from '../probe.mjs';

window.results = { main: probe(w) };
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
worker.onmessage = (e) => {
  window.results.worker = e.data;
  document.title = 'done';
};
worker.onerror = (e) => {
  window.results.worker = { failed: String(e.message ?? e) };
  document.title = 'done';
};
