import { defineConfig } from 'vite';

// The bundle is served by the ruche binary from web/dist under a strict CSP
// (script-src 'self'; style-src 'self'), so everything must end up in files under dist/assets/.
export default defineConfig({
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    target: 'es2022',
    // NOTE: small assets are inlined as data: URLs by default; keep everything a real file so
    // nothing depends on the CSP's data: allowance.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    // `npm run dev` against a local `ruche serve` (make run listens on 127.0.0.1:8008).
    proxy: {
      '/_matrix': 'http://127.0.0.1:8008',
      '/.well-known': 'http://127.0.0.1:8008',
    },
  },
});
