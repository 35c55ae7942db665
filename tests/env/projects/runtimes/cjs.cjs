const w = require('weave-usage');
const i = require('weave-usage/init');
const { probe } = require('./probe.cjs');

i.init().then(() => console.log(JSON.stringify({ main: probe(w), init: probe(i) })));
