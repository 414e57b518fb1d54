import { defineConfig } from 'vite';

// The collector serves the built app under /demo/ (`--demo-dir tests/bundler/dist`).
export default defineConfig({
  base: '/demo/',
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
