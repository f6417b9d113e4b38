// One build per Forge resource (`vite build --mode issue-panel`, `--mode admin-page`): Forge
// uploads each resource folder on its own, so each holds its own assets.
import { defineConfig } from "vite";

export default defineConfig(({ mode }) => ({
  root: `resources/${mode}`,
  base: "./",
  build: { outDir: `../../build/${mode}`, emptyOutDir: true, target: "es2022" },
}));
