// A server component, prerendered by `next build`: the package imported at
// the top, as any module is.
import * as w from 'weave-usage';
import { probe } from '../probe.mjs';
import Client from './client.js';

export default function Page() {
  return (
    <main>
      <pre id="server">{JSON.stringify(probe(w))}</pre>
      <Client />
    </main>
  );
}
