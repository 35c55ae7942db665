// The one line a Vite app needs, for module workers only: the package's
// default entry uses top-level await, which Vite's default worker format
// (iife) cannot hold.
export default { worker: { format: 'es' }, build: { outDir: 'dist-vite' } };
