import { fileURLToPath } from "node:url";

import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

// `npm run dev` forwards API calls (and the SSE stream) to a running hazwatch server.
const apiTarget = process.env.HAZWATCH_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  plugins: [vue()],
  build: {
    // The Python package serves this folder at "/"; it is generated, never committed.
    outDir: fileURLToPath(new URL("../src/hazwatch/webui", import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      output: {
        manualChunks: { echarts: ["echarts/core", "echarts/charts", "echarts/components", "echarts/renderers"] },
      },
    },
  },
  server: {
    proxy: {
      "/api": { target: apiTarget, changeOrigin: false },
    },
  },
});
