// An app as the Weave UI would write it: the package imported by name and
// bundled by Vite, which must carry its .wasm along.
import { callsUsage, callsUsageFromJson } from 'weave-usage';
import sampleUrl from '../../../../www/sample/traces.jsonl?url';
import { report } from '../probe.js';

await report({ callsUsage, callsUsageFromJson }, sampleUrl);
