// No configuration for weave-usage: webpack 5 follows the
// `new URL('weave_usage_bg.wasm', import.meta.url)` and allows top-level await.
import { fileURLToPath } from 'node:url';

export default {
  mode: 'production',
  entry: './src/main.js',
  output: { path: fileURLToPath(new URL('./dist-webpack/', import.meta.url)), filename: 'main.js' },
};
