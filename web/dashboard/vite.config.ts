import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard's web UI, bundled at build time into dist/dashboard-ui and served by
// src/dashboard/server.ts as static files: no CDN, works offline.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/dashboard-ui', import.meta.url)),
    emptyOutDir: true,
    // The CSP forbids inline code: no inlined module-preload polyfill, assets as files.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: true,
    target: 'es2022',
  },
});
