'use client';
// A client component: rendered on the server when the page is prerendered,
// then in the browser, with the package imported statically.
import { useEffect, useState } from 'react';
import * as w from 'weave-usage';
import { probe } from '../probe.mjs';

export default function Client() {
  const rendered = JSON.stringify(probe(w));
  const [browser, setBrowser] = useState('');
  useEffect(() => setBrowser(JSON.stringify(probe(w))), []);
  return (
    <>
      <pre id="client">{rendered}</pre>
      <pre id="browser">{browser}</pre>
    </>
  );
}
