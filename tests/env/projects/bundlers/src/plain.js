// The main thread only: the package's default entry.
import * as w from 'weave-usage';
import { probe } from '../probe.mjs';

window.results = { main: probe(w) };
document.title = 'done';
