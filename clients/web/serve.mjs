// Serves the chat page and the SDK as static files, on its own origin (so a
// browser calls chatd across origins, as in production).
// Usage: node serve.mjs [PORT]   (default 5173); open http://127.0.0.1:PORT/?api=http://127.0.0.1:8080
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const roots = [
  ["/sdk/", join(here, "node_modules/@chatd/client/dist/src")],
  ["/", join(here, "public")],
];
const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".map": "application/json" };

export function serve(port = 5173, host = "127.0.0.1") {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    for (const [prefix, dir] of roots) {
      if (!path.startsWith(prefix)) continue;
      let file = normalize(join(dir, path.slice(prefix.length) || "index.html"));
      if (!file.startsWith(dir)) break;
      try {
        if (statSync(file).isDirectory()) file = join(file, "index.html");
        statSync(file);
      } catch {
        continue;
      }
      res.writeHead(200, { "Content-Type": types[extname(file)] ?? "application/octet-stream", "Cache-Control": "no-store" });
      createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("not found");
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 5173);
  await serve(port);
  console.log(`chat page on http://127.0.0.1:${port}/ (add ?api=<chatd URL>; start chatd with --cors-origins http://127.0.0.1:${port})`);
}
