// The patient's landing page in Chromium on loopback (a benchmark, not a test):
//   node page.mjs --url URL --runs N --warmup W --out FILE.tsv [--chromium PATH] [--viewport 1280x720]
//
// One browser (Debian's Chromium through e2e/node_modules/playwright-core), a new context for every run (empty
// cache, no cookies). Per run, from the navigation's start (performance.timeOrigin):
//   ttfb      responseStart of the document
//   fcp       first-contentful-paint
//   lcp       largest-contentful-paint (its last candidate, read 1 s after `load`), and which element it was
//   img       the first gallery <img>: the LCP candidate entry of that element when there is one (renderTime),
//             else its load + two animation frames (an upper bound of its first paint); `img_src` says which
//   load      loadEventEnd
// and the bytes of the page's HTML, CSS and JS: decoded body bytes (uncompressed) and what crossed the wire
// (body as transferred + headers), with the content-encoding seen.
import { readFileSync, writeFileSync, appendFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
const { chromium } = await import(pathToFileURL(path.join(ROOT, "e2e/node_modules/playwright-core/index.mjs")).href);

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const url = args.url;
const runs = Number(args.runs ?? 10);
const warmup = Number(args.warmup ?? 1);
const out = args.out;
const [vw, vh] = (args.viewport ?? "1280x720").split("x").map(Number);

// Installed before any of the page's scripts: collects paint entries and times the first gallery image.
const probe = () => {
  const m = (window.__bench = { lcp: [], fcp: null, img: null });
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) {
      const el = e.element;
      m.lcp.push({ t: e.renderTime || e.loadTime || e.startTime, tag: el ? el.tagName : "", src: el && el.currentSrc ? el.currentSrc : "", size: e.size, el });
    }
  }).observe({ type: "largest-contentful-paint", buffered: true });
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) if (e.name === "first-contentful-paint") m.fcp = e.startTime;
  }).observe({ type: "paint", buffered: true });
  const watch = () => {
    const img = document.querySelector("main img");
    if (!img) return;
    m.firstImg = img;
    const painted = () => requestAnimationFrame(() => requestAnimationFrame(() => (m.img = performance.now())));
    if (img.complete && img.naturalWidth) painted();
    else img.addEventListener("load", painted, { once: true });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch, { once: true });
  else watch();
};

const browser = await chromium.launch({
  executablePath: args.chromium ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});

const cols = ["run", "load1", "ttfb", "fcp", "lcp", "lcp_el", "img", "img_src", "load", "html", "css", "js", "html_wire", "css_wire", "js_wire", "encoding", "imgs", "img_bytes", "status"];
writeFileSync(out, cols.join("\t") + "\n");
for (let r = 1 - warmup; r <= runs; r++) {
  const context = await browser.newContext({ viewport: { width: vw, height: vh } });
  await context.addInitScript(probe);
  const page = await context.newPage();
  const responses = [];
  page.on("response", (resp) => responses.push(resp));
  const load1 = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
  const nav = await page.goto(url, { waitUntil: "load" });
  await page.waitForTimeout(1000); // LCP candidates after load (the lazy thumbnails, the viewer's script)
  const m = await page.evaluate(() => {
    const b = window.__bench;
    const n = performance.getEntriesByType("navigation")[0];
    const last = b.lcp[b.lcp.length - 1];
    const ofImg = b.lcp.find((e) => b.firstImg && e.el === b.firstImg);
    const label = (e) => (e ? (e.tag === "IMG" ? "IMG " + (e.src.match(/\/f\/[^?]*/) || [""])[0] : e.tag) : "");
    return {
      ttfb: n.responseStart,
      fcp: b.fcp,
      lcp: last ? last.t : null,
      lcp_el: label(last),
      img: ofImg ? ofImg.t : b.img,
      img_src: ofImg ? "lcp-entry" : b.img != null ? "load+2rAF" : "none",
      load: n.loadEventEnd,
    };
  });
  const bytes = { html: 0, css: 0, js: 0, html_wire: 0, css_wire: 0, js_wire: 0, imgs: 0, img_bytes: 0 };
  const enc = new Set();
  for (const resp of responses) {
    const type = resp.request().resourceType();
    const k = { document: "html", stylesheet: "css", script: "js" }[type];
    let body = 0;
    try {
      body = (await resp.body()).length;
    } catch {}
    if (type === "image") {
      bytes.imgs++;
      bytes.img_bytes += body;
    }
    if (!k) continue;
    const sizes = await resp.request().sizes().catch(() => ({ responseBodySize: body, responseHeadersSize: 0 }));
    bytes[k] += body;
    bytes[`${k}_wire`] += sizes.responseBodySize + sizes.responseHeadersSize;
    enc.add((await resp.allHeaders())["content-encoding"] ?? "identity");
  }
  const fmt = (v) => (v == null ? "" : typeof v === "number" && !Number.isInteger(v) ? v.toFixed(1) : String(v));
  const row = { run: r < 1 ? `w${r + warmup}` : r, load1, ...m, ...bytes, encoding: [...enc].join(","), status: nav ? nav.status() : "" };
  appendFileSync(out, cols.map((c) => fmt(row[c])).join("\t") + "\n");
  process.stderr.write(
    `  page run ${String(row.run).padStart(3)}: fcp ${fmt(m.fcp)} ms, first image ${fmt(m.img)} ms (${m.img_src}), lcp ${fmt(m.lcp)} ms (${m.lcp_el}); html+css+js ${bytes.html + bytes.css + bytes.js} B\n`,
  );
  await context.close();
}
await browser.close();
