// Bundles every entry point in src/ (each *.js and *.css file) with its npm packages into
// dist/app/, which Django serves as static files under /static/app/ (a neutral path: licensee
// pages name nothing of Callrix, not even in their asset URLs).
// Nothing here is fetched at run time: no CDN, no third-party origin.
import { build } from "esbuild";
import { readdirSync, rmSync } from "node:fs";

const entryPoints = readdirSync("src")
  .filter((name) => /\.(js|css)$/.test(name))
  .map((name) => `src/${name}`);

rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints,
  outdir: "dist/app",
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "iife",
  target: ["es2020"],
  logLevel: "warning",
  legalComments: "linked",
});
