// "Send to patient", timed end to end (a benchmark, not a test):
//   node send.mjs --base URL --key KEY --study UID --sends N --warmup W --maildev URL --tag RUN --out FILE.tsv
//
// Each send goes to a new address (bench-<tag>-<i>@patient.example), so every one is a new link (a send to
// the same contacts would re-send the active link instead). For each: the POST
// /api/v1/studies/{uid}/shares?wait=true starts the clock; the POST's answer marks "ready" (the server answers
// once the share left `preparing`); MailDev's REST API is polled every --poll ms (default 10) for an email to
// that address, which stops the clock. The email must carry the share's link. Sends are one after another,
// with --pause ms between them and a `sync` before each (--sync 0: none); before each, the 1-minute load and the
// number of rustc processes are noted (with --quiet-wait S, it first waits up to S seconds for no rustc to run).
// Our emails are deleted from MailDev one by one afterwards (never DELETE /api/email/all: the inbox is shared).
// Cine loops' MP4s are encoded after the share is ready (and its email queued): GET /api/v1/shares/{id} is then
// polled every 50 ms until `videos_pending` is 0, which gives "videos_ms"; images read for text inside the image
// area (OCR) after the email are held back until then: `images_checking` reaching 0 gives "checked_ms", the moment
// every image can be seen. The next send starts only after both
// (--wait-videos 0: no wait), as a clinic's sends are not back to back.
import { readFileSync, readdirSync, writeFileSync, appendFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { execFileSync } from "node:child_process";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const base = args.base;
const key = args.key;
const study = args.study;
const sends = Number(args.sends ?? 20);
const warmup = Number(args.warmup ?? 1);
const maildev = args.maildev ?? "http://127.0.0.1:1080";
const tag = args.tag ?? String(Date.now());
const out = args.out;
const poll = Number(args.poll ?? 10);
const pause = Number(args.pause ?? 1000);
const quietWait = Number(args["quiet-wait"] ?? 0);
const syncFirst = (args.sync ?? "1") !== "0";
const pid = args.pid; // the server: its CPU time (user + system) during each send is recorded
const timeoutMs = Number(args.timeout ?? 120000);
const waitVideos = (args["wait-videos"] ?? "1") !== "0";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function load1() {
  return readFileSync("/proc/loadavg", "utf8").split(" ")[0];
}
// utime + stime of the server in ms (/proc/PID/stat fields 14 and 15, in clock ticks of 10 ms)
function cpuMs() {
  if (!pid) return null;
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}
function rustcs() {
  let n = 0;
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, "utf8").trim() === "rustc") n++;
    } catch {}
  }
  return n;
}

async function mailFor(addr) {
  const r = await fetch(`${maildev}/api/email?to.address=${encodeURIComponent(addr)}`);
  if (!r.ok) throw new Error(`MailDev answered ${r.status}`);
  return r.json();
}

async function oneSend(i, label) {
  const addr = `bench-${tag}-${label}@patient.example`;
  if (quietWait > 0) {
    const until = Date.now() + quietWait * 1000;
    while (rustcs() > 0 && Date.now() < until) await sleep(2000);
  }
  // The previous share's files (up to ~1 GB) are still being written back: let the disk settle first, as it
  // would between a clinic's sends.
  if (syncFirst) execFileSync("sync");
  const row = { i: label, load1: load1(), rustc: rustcs(), addr };
  let mailAt = null, mail = null, failed = null;
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const post = fetch(`${base}/api/v1/studies/${encodeURIComponent(study)}/shares?wait=true`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ contacts: addr, language: "en" }),
  }).then(async (r) => ({ at: performance.now(), status: r.status, body: await r.json() }));
  const watcher = (async () => {
    while (performance.now() - t0 < timeoutMs) {
      const list = await mailFor(addr);
      if (list.length) {
        mailAt = performance.now();
        mail = list[0];
        return;
      }
      await sleep(poll);
    }
    failed = "no email within the timeout";
  })();
  const answer = await post;
  if (answer.status !== 201) failed = `POST answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`;
  if (!failed) await watcher;
  row.cpu_ms = cpu0 == null ? "" : cpuMs() - cpu0;
  const s = answer.body ?? {};
  row.status = answer.status;
  row.ready_ms = s.state === "ready" ? (answer.at - t0).toFixed(1) : "";
  row.mail_ms = mailAt ? (mailAt - t0).toFixed(1) : "";
  row.share = s.id ?? "";
  row.state = s.state ?? "";
  row.password = s.password_required ?? "";
  row.instances = s.instances ?? "";
  row.url = s.url ?? "";
  // The email must carry this share's link.
  if (mail && s.url) {
    const text = `${mail.text ?? ""}\n${mail.html ?? ""}`;
    row.link_in_mail = text.includes(s.url) ? "yes" : "NO";
    if (row.link_in_mail !== "yes") failed ??= "the email does not carry the share's link";
    await fetch(`${maildev}/api/email/${mail.id}`, { method: "DELETE" }).catch(() => {});
  }
  if (waitVideos && s.id && !failed) {
    while (performance.now() - t0 < timeoutMs) {
      const r = await fetch(`${base}/api/v1/shares/${s.id}`, { headers: { authorization: `Bearer ${key}` } });
      const j = r.ok ? await r.json() : {};
      if (j.images_checking === 0 && !row.checked_ms) row.checked_ms = (performance.now() - t0).toFixed(1);
      if (j.videos_pending === 0 && j.images_checking === 0) {
        row.videos_ms = (performance.now() - t0).toFixed(1);
        break;
      }
      await sleep(50);
    }
    if (!row.videos_ms) failed = "videos still pending at the timeout";
    row.cpu_all_ms = cpu0 == null ? "" : cpuMs() - cpu0;
  }
  row.error = failed ?? "";
  const cols = ["i", "load1", "rustc", "status", "ready_ms", "mail_ms", "cpu_ms", "checked_ms", "videos_ms", "cpu_all_ms", "share", "state", "password", "instances", "link_in_mail", "error"];
  appendFileSync(out, cols.map((c) => row[c] ?? "").join("\t") + "\n");
  process.stderr.write(
    `  send ${String(label).padStart(3)}: ready ${row.ready_ms || "-"} ms, email ${row.mail_ms || "-"} ms, all images seen ${row.checked_ms || "-"} ms, videos ${row.videos_ms || "-"} ms, server CPU ${row.cpu_ms || "-"} / ${row.cpu_all_ms || "-"} ms (load ${row.load1}, rustc ${row.rustc})${failed ? "  ERROR " + failed : ""}\n`,
  );
  if (s.url) writeFileSync(`${out}.last-url`, s.url + "\n");
  return !failed;
}

writeFileSync(out, "i\tload1\trustc\tstatus\tready_ms\tmail_ms\tcpu_ms\tchecked_ms\tvideos_ms\tcpu_all_ms\tshare\tstate\tpassword\tinstances\tlink_in_mail\terror\n");
let ok = true;
for (let w = 1; w <= warmup; w++) {
  ok = (await oneSend(w, `w${w}`)) && ok;
  await sleep(pause);
}
for (let i = 1; i <= sends; i++) {
  ok = (await oneSend(i, String(i))) && ok;
  if (i < sends) await sleep(pause);
}
process.exit(ok ? 0 : 1);
