// Copy the dist files the templates use from node_modules/ into static/vendor/.
// static/vendor/ is git-ignored: `npm ci && npm run vendor` rebuilds it from package-lock.json,
// so the pages never load anything from a CDN and nothing third-party is committed.
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const vendor = join(root, "static", "vendor");

// [source under node_modules/, target under static/vendor/]
const files = [
  ["bootstrap/dist/css/bootstrap.min.css", "bootstrap/css/bootstrap.min.css"],
  ["bootstrap/dist/css/bootstrap.min.css.map", "bootstrap/css/bootstrap.min.css.map"],
  // The bundle includes Popper (dropdowns, tooltips).
  ["bootstrap/dist/js/bootstrap.bundle.min.js", "bootstrap/js/bootstrap.bundle.min.js"],
  ["bootstrap/dist/js/bootstrap.bundle.min.js.map", "bootstrap/js/bootstrap.bundle.min.js.map"],
  ["bootstrap/LICENSE", "bootstrap/LICENSE"],
  ["bootstrap-icons/font/bootstrap-icons.min.css", "bootstrap-icons/bootstrap-icons.min.css"],
  // bootstrap-icons.min.css loads its fonts from ./fonts/
  ["bootstrap-icons/font/fonts", "bootstrap-icons/fonts"],
  ["bootstrap-icons/LICENSE", "bootstrap-icons/LICENSE"],
  ["echarts/dist/echarts.min.js", "echarts/echarts.min.js"],
  ["echarts/LICENSE", "echarts/LICENSE"],
];

const missing = files.filter(([source]) => !existsSync(join(modules, source)));
if (missing.length > 0) {
  console.error(`vendor-assets: missing ${missing.map(([s]) => s).join(", ")}; run \`npm ci\` first`);
  process.exit(1);
}

// Start clean so a file dropped from the list does not linger.
rmSync(vendor, { recursive: true, force: true });
for (const [source, target] of files) {
  const to = join(vendor, target);
  mkdirSync(dirname(to), { recursive: true });
  cpSync(join(modules, source), to, { recursive: true });
}
console.log(`vendor-assets: copied ${files.length} entries into static/vendor/`);
