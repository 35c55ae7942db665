// Rollup resolves packages and copies `new URL(..., import.meta.url)`
// assets only with plugins: node-resolve (as for any package) and
// import-meta-assets, which emits weave_usage_bg.wasm.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { importMetaAssets } from '@web/rollup-plugin-import-meta-assets';

export default {
  input: 'src/plain.js',
  output: { dir: 'dist-rollup', format: 'es', entryFileNames: 'main.js' },
  plugins: [nodeResolve({ browser: true }), importMetaAssets()],
};
