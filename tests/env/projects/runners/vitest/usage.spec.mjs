import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import * as w from 'weave-usage';
import * as i from 'weave-usage/init';
import { probe } from '../probe.mjs';

const expected = JSON.parse(readFileSync(new URL('../expected.json', import.meta.url), 'utf8'));

test('weave-usage', () => {
  expect(probe(w)).toEqual(expected);
});

test('weave-usage/init', async () => {
  await i.init();
  expect(probe(i)).toEqual(expected);
});
