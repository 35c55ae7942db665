// A Web Worker of tests/e2e/workers.test.mjs (see tests/js/workers/handler.mjs,
// served here as /handler/handler.mjs).
import * as lib from '/pkg/index.js';
import { usageHandler } from '/handler/handler.mjs';

const handle = usageHandler(lib, 4096);
self.onmessage = ({ data }) => self.postMessage(handle(data));
self.postMessage({ ready: true });
