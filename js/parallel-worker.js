// A shard worker of weave-usage/parallel in browsers (a module Worker; see parallel-core.js).
import * as lib from './index.js';
import { shardHandler } from './parallel-core.js';

const handle = shardHandler(lib, (message, transfer) => self.postMessage(message, transfer));
self.addEventListener('message', (e) => handle(e.data));
