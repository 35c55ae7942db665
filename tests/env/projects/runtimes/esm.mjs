import * as w from 'weave-usage';
import * as i from 'weave-usage/init';
import { probe } from './probe.mjs';

await i.init();
console.log(JSON.stringify({ main: probe(w), init: probe(i) }));
