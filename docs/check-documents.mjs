// Keeps the API documents true:
// - docs/asyncapi.yaml must parse and validate with the AsyncAPI parser (no
//   errors, no warnings);
// - docs/openapi.yaml must describe exactly the routes of src/api/routes.cpp,
//   method by method (a route added to one and not the other fails here).
// (@redocly/cli lints docs/openapi.yaml itself; see package.json.)
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { Parser } from "@asyncapi/parser";

const here = dirname(fileURLToPath(import.meta.url));
let failed = false;
const fail = (msg) => {
  console.error(`check-documents: ${msg}`);
  failed = true;
};

// AsyncAPI
const parser = new Parser();
const asyncapi = readFileSync(join(here, "asyncapi.yaml"), "utf8");
const { document, diagnostics } = await parser.parse(asyncapi);
for (const d of diagnostics) {
  // severity 0 error, 1 warning, 2 info, 3 hint
  if (d.severity <= 1) fail(`asyncapi.yaml: ${d.message} at ${d.path.join(".")}`);
}
if (!document) fail("asyncapi.yaml does not parse");
else console.log(`check-documents: asyncapi.yaml valid (${document.messages().length} messages, ${document.operations().length} operations)`);

// OpenAPI paths ↔ the route table
const routes = new Set();
const table = readFileSync(join(here, "../src/api/routes.cpp"), "utf8");
// route("GET", "/path", ...), route.now("GET", "/path", ...) (answered at once)
// and route.streaming("POST", "/path", ...) (uploads).
for (const m of table.matchAll(/route(?:\.streaming|\.now)?\("(\w+)",\s*"([^"]+)"/g)) routes.add(`${m[1]} ${m[2]}`);
const documented = new Set();
let path = null;
for (const line of readFileSync(join(here, "openapi.yaml"), "utf8").split("\n")) {
  const p = line.match(/^  (\/[^:]*):\s*$/);
  if (p) {
    path = p[1];
    continue;
  }
  if (/^\S/.test(line)) path = null;
  const m = path && line.match(/^    (get|head|post|put|patch|delete):\s*$/);
  if (m) documented.add(`${m[1].toUpperCase()} ${path}`);
}
for (const r of routes) if (!documented.has(r)) fail(`${r} is routed but not in openapi.yaml`);
for (const d of documented) if (!routes.has(d)) fail(`${d} is in openapi.yaml but not routed`);
if (routes.size === 0) fail("found no routes in src/api/routes.cpp");
console.log(`check-documents: openapi.yaml and the route table agree on ${routes.size} routes`);
process.exit(failed ? 1 : 0);
