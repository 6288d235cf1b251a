import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * Builds the editor into editor/dist, which the gateway serves at /editor, and the API portal
 * (portal.html, src/portal/), which it serves at /portal; both load their assets from /editor/assets.
 * `npx vite --config editor/vite.config.ts` serves it with hot reload, proxying the admin API
 * to a gateway on :8080.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/editor/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One editor bundle of React, React Flow, zod and jsonata; splitting buys nothing for an admin tool.
    chunkSizeWarningLimit: 1500,
    rolldownOptions: { input: { index: fileURLToPath(new URL('index.html', import.meta.url)), portal: fileURLToPath(new URL('portal.html', import.meta.url)) } },
  },
  server: { proxy: { '/admin/api': 'http://127.0.0.1:8080', '/portal/api': 'http://127.0.0.1:8080', '/portal/assets': 'http://127.0.0.1:8080' } },
});
