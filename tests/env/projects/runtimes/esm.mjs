import * as w from 'weave-usage';
import * as i from 'weave-usage/init';
import * as s from 'weave-usage/stats';
import { probe, statsProbe } from './probe.mjs';

await i.init();
console.log(JSON.stringify({ main: probe(w), init: probe(i), stats: statsProbe(s) }));
