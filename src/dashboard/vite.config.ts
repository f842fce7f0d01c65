/** Builds the dashboard into dist/dashboard/ (index.html + hashed assets); the server serves it at `/`. */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const here = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: here,
  base: "/",
  plugins: [react()],
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("../../dist/dashboard/", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    // Nothing inlined as data: URLs or fetched from elsewhere: every asset is a file served by authbus.
    assetsInlineLimit: 0,
    sourcemap: false,
    target: "es2022",
  },
});
