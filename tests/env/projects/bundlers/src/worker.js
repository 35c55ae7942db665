import * as w from 'weave-usage';
import { probe } from '../probe.mjs';

postMessage(probe(w));
