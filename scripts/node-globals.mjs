// Injected into the engine's bundles (scripts/build.mjs, esbuild's `inject`): a free use of one of
// these globals in the engine becomes a use of this module's import. Node 20 defines them on
// globalThis as accessors, so each read of the global (Buffer.byteLength, performance.now(), …) is
// a global-property lookup and a getter call, where an imported binding is a constant to V8.
export { Buffer } from 'node:buffer';
export { performance } from 'node:perf_hooks';
export { default as process } from 'node:process';
