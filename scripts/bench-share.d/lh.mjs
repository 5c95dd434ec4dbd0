// One line of lighthouse.tsv from a Lighthouse JSON report: node lh.mjs REPORT.json PRESET RUN LOAD1 >> lighthouse.tsv
// Columns: preset run load1 performance accessibility fcp_ms lcp_ms tbt_ms cls si_ms failing
// (failing: audits of either category that scored below 0.9, binary ones below 1).
import { readFileSync } from "node:fs";

const [file, preset, run, load1] = process.argv.slice(2);
const r = JSON.parse(readFileSync(file, "utf8"));
const score = (c) => (r.categories[c]?.score == null ? "" : Math.round(r.categories[c].score * 100));
const num = (id) => r.audits[id]?.numericValue ?? "";
const ids = new Set(["performance", "accessibility"].flatMap((c) => (r.categories[c]?.auditRefs ?? []).filter((a) => a.weight > 0).map((a) => a.id)));
const failing = [...ids].filter((id) => {
  const a = r.audits[id];
  return a && a.score !== null && (a.scoreDisplayMode === "binary" ? a.score < 1 : a.score < 0.9);
});
const fmt = (v, d = 0) => (v === "" ? "" : Number(v).toFixed(d));
console.log(
  [preset, run, load1, score("performance"), score("accessibility"), fmt(num("first-contentful-paint")), fmt(num("largest-contentful-paint")),
    fmt(num("total-blocking-time")), fmt(num("cumulative-layout-shift"), 3), fmt(num("speed-index")), failing.join(",")].join("\t"),
);
