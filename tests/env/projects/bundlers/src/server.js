// A server bundle (esbuild --platform=node): the Node entry, inlined.
import * as w from 'weave-usage';
import { probe } from '../probe.mjs';

console.log(JSON.stringify(probe(w)));
