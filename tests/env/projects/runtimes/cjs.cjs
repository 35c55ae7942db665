const w = require('weave-usage');
const i = require('weave-usage/init');
const s = require('weave-usage/stats');
const { probe, statsProbe } = require('./probe.cjs');

i.init().then(() => console.log(JSON.stringify({ main: probe(w), init: probe(i), stats: statsProbe(s) })));
