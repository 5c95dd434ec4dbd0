// Browser end-to-end tests of the StudyLink staff UI.
//
// Starts a real `studylink serve` on free ports with an empty data directory,
// drives Debian's Chromium through playwright-core (no browser download), and
// walks the staff pages the way a person would: first-admin setup, sign in/out,
// uploads (folder, repeat, ZIP), admin users and API keys, a staff account,
// the EN/ES switch and the keyboard; then the Studies screen with the corpus
// (studies.mjs) and "Send to patient" against MailDev and Kannel, with the
// patient's page on a phone (send.mjs). Every HTML page is checked for security
// headers, console errors, failed requests and horizontal overflow, and every
// step leaves a screenshot in target/e2e/.
//
//   node e2e/run.mjs            (or e2e/run.sh, which also installs what's missing)
//
// Environment: STUDYLINK_BIN (server binary), STUDYLINK_CORPUS (DICOM files),
// CHROMIUM (browser path, default /usr/bin/chromium), E2E_OUT (screenshot dir).
// Steps depend on one another (one server, one growing database): after a
// failure, steps that need it are skipped, not run into timeouts.

import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";
import { zipSync } from "fflate";

import { studiesSteps } from "./studies.mjs";
import { sendSteps } from "./send.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..");
const BIN = process.env.STUDYLINK_BIN || "/var/tmp/studylink-target/debug/studylink";
const CORPUS = process.env.STUDYLINK_CORPUS || path.resolve(ROOT, "..", "shared", "corpus");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const OUT = path.resolve(process.env.E2E_OUT || path.join(ROOT, "target", "e2e"));
const ACTION_TIMEOUT = 10_000;
// The corpus steps send ~130 files by C-STORE and render every thumbnail; the
// send steps prepare three patient links (de-identification, video).
const WATCHDOG_MS = 600_000;

// Email and SMS go to the peers of scripts/peers/ (MailDev, Kannel with a fake
// SMSC): the send steps read what they received. Variables already set win.
const NOTIFY_ENV = {
  STUDYLINK__NOTIFY__SMTP__HOST: "127.0.0.1",
  STUDYLINK__NOTIFY__SMTP__PORT: process.env.MAILDEV_SMTP_PORT || "1025",
  STUDYLINK__NOTIFY__SMTP__TLS: "none",
  STUDYLINK__NOTIFY__SMTP__FROM: "noreply@clinic.example",
  STUDYLINK__NOTIFY__SMS__PROVIDER: "kannel",
  STUDYLINK__NOTIFY__SMS__BASE_URL: `http://127.0.0.1:${process.env.KANNEL_SENDSMS_PORT || 13913}`,
  STUDYLINK__NOTIFY__SMS__USERNAME: "studylink",
  STUDYLINK__NOTIFY__SMS__PASSWORD: "studylink-test",
};

const ADMIN = { email: "admin@clinic.example", password: "correct horse battery staple" };
const STAFF_EMAIL = "nurse@clinic.example";

// Strings the UI must show, copied from crates/web/locales/{en,es}/main.ftl.
const EN = {
  setupTitle: "Set up StudyLink",
  setupInvalid: "This setup link no longer works",
  mismatch: "The two passwords are different.",
  loginTitle: "Sign in",
  loginFailed: "Incorrect email or password.",
  studies: "Studies",
  upload: "Upload",
  users: "Users",
  apiKeys: "API keys",
  settings: "Settings",
  outbox: "Outbox",
  signOut: "Sign out",
  uploadTitle: "Upload studies",
  stored: "Stored",
  duplicate: "Already stored",
  refused: "Refused",
  done: "Finished",
  refusalReasons: ["Not a DICOM file.", "Damaged or unreadable DICOM file.", "The DICOM file lacks required information."],
  forbidden: "Not allowed",
  adminOnly: "Only administrators of the clinic can open this page.",
  userCreated: (e) => `User ${e} created. Their password:`,
  keysNone: "No API keys yet.",
  studiesOf: (n) => `of ${n} studies`,
  selected: (n) => `${n} images selected`,
  sendSelected: (n) => `${n} images will be sent.`,
  sendTo: "Send to",
  sendToPatient: "Send to patient",
  tabShared: "Shared",
  notShared: "Not shared yet",
};
const ES = {
  html: "es",
  loginTitle: "Iniciar sesión",
  loginSubmit: "Entrar",
  email: "Correo electrónico",
  studies: "Estudios",
  upload: "Subir",
  users: "Usuarios",
  settings: "Configuración",
  outbox: "Bandeja de salida",
  signOut: "Cerrar sesión",
  uploadTitle: "Subir estudios",
  pickFolder: "Elegir una carpeta",
  duplicate: "Ya estaba guardado",
  done: "Terminado",
  usersAdd: "Añadir un usuario",
  searchLabel: "Paciente, ID o n.º de acceso",
  tabShared: "Compartido",
  notShared: "Todavía no se ha compartido",
  sendToPatient: "Enviar a paciente",
};

// ---------------------------------------------------------------- harness ---

const results = []; // { name, status: pass|fail|skip, ms, error }
const notes = []; // things worth a human look that don't fail the run
const problems = []; // page-level problems found by the listeners
const expectedErrors = new Set(); // "status url" of documents meant to be 4xx
const undecodable = new Set(); // thumbnail paths the server answered 422 (pixel data that can't be decoded)
let shotNo = 0;

function log(...a) {
  console.log(...a);
}

class Failure extends Error {}

function check(cond, message) {
  if (!cond) throw new Failure(message);
}

function eq(actual, expected, what) {
  check(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

async function step(name, needs, fn) {
  const missing = needs.filter((n) => !results.some((r) => r.name === n && r.status === "pass"));
  if (missing.length) {
    results.push({ name, status: "skip", ms: 0, error: `needs: ${missing.join(", ")}` });
    log(`  - skip  ${name}  (needs ${missing.join(", ")})`);
    return false;
  }
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, status: "pass", ms: Date.now() - t0 });
    log(`  ✔ pass  ${name}  (${Date.now() - t0} ms)`);
    return true;
  } catch (e) {
    const error = e instanceof Failure ? e.message : e && e.stack ? e.stack : String(e);
    results.push({ name, status: "fail", ms: Date.now() - t0, error });
    log(`  ✘ FAIL  ${name}  (${Date.now() - t0} ms)\n${indent(error)}`);
    for (const p of openPages) await shot(p, `FAILED-${slug(name)}`).catch(() => {});
    return false;
  } finally {
    // Contexts a step opened for itself go once its failure (if any) is on screen.
    while (stepContexts.length) await stepContexts.pop().close().catch(() => {});
  }
}
const stepContexts = [];

const indent = (s) => String(s).split("\n").map((l) => "      " + l).join("\n");
const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40);

// Waits for a condition evaluated in Node (polling, not a fixed sleep).
async function until(what, fn, timeout = ACTION_TIMEOUT) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Failure(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ----------------------------------------------------------------- server ---

let server;
let serverLog;
let dicom; // { ae, host, port } of the server's C-STORE SCP
let stopping = false;
let serverExit = null; // { code, signal } once it has exited

async function startServer(dataDir) {
  if (!fs.existsSync(BIN)) throw new Error(`server binary not found: ${BIN} (build it or set STUDYLINK_BIN)`);
  serverLog = fs.createWriteStream(path.join(OUT, "server.log"));
  server = spawn(BIN, ["--data-dir", dataDir, "serve", "--http", "127.0.0.1:0", "--dicom", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...NOTIFY_ENV, ...process.env, NO_COLOR: "1" },
  });
  // Keep draining both pipes for the whole run: a full pipe would stall the server.
  server.stderr.on("data", (d) => serverLog.write(d));
  server.on("exit", (code, signal) => {
    serverExit = { code, signal };
    if (!stopping) log(`e2e: the server exited during the run (code ${code}, signal ${signal}); see ${path.join(OUT, "server.log")}`);
  });
  const lines = readline.createInterface({ input: server.stdout });
  let web, setup;
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server did not print its web address and setup URL within 30 s")), 30_000);
    server.once("exit", (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${sig}); see ${path.join(OUT, "server.log")}`));
    });
    lines.on("line", (line) => {
      serverLog.write(line + "\n");
      const w = line.match(/^\s*web:\s+(http:\/\/\S+)/);
      if (w) web = w[1];
      const d = line.match(/^\s*DICOM:\s+AE title (\S+) on (\S+):(\d+)/);
      if (d) dicom = { ae: d[1], host: d[2], port: d[3] };
      const s = line.match(/(https?:\/\/\S+\/setup\/[A-Za-z0-9_-]+)/);
      if (s) setup = s[1];
      if (web && setup) {
        clearTimeout(timer);
        // The printed setup URL is built from the *public* URL, which defaults
        // to the configured listen address — port 0 here (see README). Keep
        // its path, and use the address the server really listens on.
        const printed = new URL(setup);
        resolve({ base: web.replace(/\/$/, ""), setupUrl: web.replace(/\/$/, "") + printed.pathname, printedSetupUrl: setup });
      }
    });
  });
}

async function stopServer() {
  stopping = true;
  if (!server || server.exitCode !== null || server.signalCode) return;
  server.kill("SIGTERM");
  const t = setTimeout(() => server.kill("SIGKILL"), 5_000);
  await once(server, "exit").catch(() => {});
  clearTimeout(t);
}

// ---------------------------------------------------------------- browser ---

let browser;
let base;
const openPages = new Set();
const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
];

const SECURITY_HEADERS = {
  "content-security-policy": (v) =>
    /default-src '(self|none)'/.test(v) && /frame-ancestors 'none'/.test(v) && /script-src 'self'/.test(v) && !/unsafe-inline|unsafe-eval/.test(v),
  "x-frame-options": (v) => v.toUpperCase() === "DENY",
  "x-content-type-options": (v) => v.toLowerCase() === "nosniff",
  "referrer-policy": (v) => ["same-origin", "no-referrer", "strict-origin", "strict-origin-when-cross-origin"].includes(v),
  "cache-control": (v) => /no-store/.test(v),
};
const htmlPagesChecked = new Set();
const staticChecked = new Set();

// A browser context (own cookies) with one tracked page. `scoped`: closed when
// the current step ends.
async function newContext(label, { scoped = true, ...options } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US", ...options });
  if (scoped) stepContexts.push(context);
  context.setDefaultTimeout(ACTION_TIMEOUT);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT);
  const page = await context.newPage();
  track(page, label);
  return { context, page };
}

function track(page, label) {
  openPages.add(page);
  page.on("close", () => openPages.delete(page));
  page.on("console", (m) => {
    if (m.type() !== "error" && m.type() !== "warning") return; // warnings become notes
    const loc = m.location() || {};
    problems.push({ label, kind: `console.${m.type()}`, text: m.text(), url: loc.url || page.url() });
  });
  page.on("pageerror", (e) => problems.push({ label, kind: "pageerror", text: String(e), url: page.url() }));
  page.on("requestfailed", (r) => {
    // A navigation replaced by the next one is not a failure of the app.
    const why = r.failure()?.errorText || "";
    if (why === "net::ERR_ABORTED" && r.isNavigationRequest()) return;
    // Nor is a lazy thumbnail still loading when the page is left (a broken
    // one is caught by the steps that check naturalWidth).
    if (why === "net::ERR_ABORTED" && r.resourceType() === "image") return;
    // Or a video the patient's viewer stopped (closing it drops the source mid-range).
    if (why === "net::ERR_ABORTED" && r.resourceType() === "media") return;
    // Or a cine frame the staff viewer was still preloading when it closed or the page was left.
    if (why === "net::ERR_ABORTED" && r.resourceType() === "fetch" && /\/frames\/\d+\/rendered$/.test(new URL(r.url()).pathname)) return;
    problems.push({ label, kind: "requestfailed", text: `${r.method()} ${r.url()} ${why}`, url: r.url() });
  });
  page.on("request", (r) => {
    if (!r.url().startsWith(base + "/") && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) {
      problems.push({ label, kind: "external request", text: `${r.method()} ${r.url()}`, url: r.url() });
    }
  });
  page.on("response", async (r) => {
    const url = r.url();
    const status = r.status();
    const type = r.request().resourceType();
    // Decided synchronously, while navigate() still holds the expectation.
    if (status >= 400 && r.request().isNavigationRequest() && expectNav.get(page) === status) expectedErrors.add(`${status} ${url}`);
    // 422 from a thumbnail: the stored pixel data can't be decoded (a damaged file in the corpus's
    // invalid_and_edge folder). The page shows a "no preview" placeholder; the studies step checks it.
    if (status === 422 && new URL(url).pathname.endsWith("/thumbnail")) {
      expectedErrors.add(`${status} ${url}`);
      undecodable.add(new URL(url).pathname);
    }
    const headers = await r.allHeaders().catch(() => ({}));
    const ctype = headers["content-type"] || "";
    if (status >= 400 && !expectedErrors.has(`${status} ${url}`)) {
      problems.push({ label, kind: "http error", text: `${status} ${r.request().method()} ${url}`, url });
    }
    if (ctype.startsWith("text/html")) {
      htmlPagesChecked.add(`${status} ${new URL(url).pathname}`);
      for (const [name, ok] of Object.entries(SECURITY_HEADERS)) {
        const v = headers[name];
        if (v === undefined || !ok(v)) {
          problems.push({ label, kind: "security header", text: `${name}: ${v ?? "(missing)"} on ${status} ${url}`, url });
        }
      }
    } else if (type === "stylesheet" || type === "script" || url.includes("/static/")) {
      staticChecked.add(new URL(url).pathname);
      if ((headers["x-content-type-options"] || "") !== "nosniff") {
        problems.push({ label, kind: "security header", text: `x-content-type-options missing on ${url}`, url });
      }
    }
  });
}

// Runs `action` (which navigates the page) and returns the main document's
// final response (after redirects), checking its status and path. A 4xx/5xx
// declared here is expected, not a problem.
const expectNav = new WeakMap(); // page -> status its next navigation should have
async function navigate(page, action, { status = 200, path: wantPath } = {}) {
  const respP = page.waitForResponse(
    (r) => r.request().isNavigationRequest() && r.request().frame() === page.mainFrame() && !(r.status() >= 300 && r.status() < 400),
  );
  // If `action` throws, nobody awaits this one: its timeout must not crash the run.
  respP.catch(() => {});
  expectNav.set(page, status);
  // Mark the current document, to know when the next one has replaced it
  // (the response arrives before the page commits, and a redirect may come
  // back to the very same URL, as the language switch does).
  await page.evaluate(() => { window.__e2eOld = true; }).catch(() => {});
  try {
    await action();
    const resp = await respP;
    eq(resp.status(), status, `HTTP status of ${resp.url()}`);
    await page.waitForFunction(() => !window.__e2eOld && document.readyState === "complete", null, { polling: 25 });
    if (wantPath !== undefined) eq(new URL(page.url()).pathname, wantPath, "page path");
    return resp;
  } finally {
    expectNav.delete(page);
  }
}

// A full-page screenshot, plus the layout checks that apply to every page.
async function shot(page, name) {
  shotNo += 1;
  const file = path.join(OUT, `${String(shotNo).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  const overflow = await page.evaluate(() => {
    const doc = document.documentElement;
    if (doc.scrollWidth <= doc.clientWidth + 1) return null;
    const wide = [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > doc.clientWidth + 1)
      .slice(0, 3)
      .map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + String(e.className).replace(/ /g, ".") : ""));
    return `page is ${doc.scrollWidth}px wide in a ${doc.clientWidth}px viewport (${wide.join(", ")})`;
  });
  if (overflow) problems.push({ label: name, kind: "horizontal overflow", text: overflow, url: page.url() });
  return file;
}

const text = async (locator) => (await locator.innerText()).trim();
const h1 = (page) => text(page.locator("main h1"));

async function htmlLang(page) {
  return page.locator("html").getAttribute("lang");
}

async function navLinks(page) {
  return (await page.locator("nav.mainnav a").allInnerTexts()).map((s) => s.trim());
}

// How many instances the clinic has, by QIDO-RS from the page (the Studies
// screen counts studies, not images: counting every image on each visit
// would not scale).
async function instanceCount(page) {
  return page.evaluate(async () => {
    const r = await fetch("/dicomweb/instances?limit=10000", { headers: { accept: "application/dicom+json" } });
    if (r.status === 204) return 0;
    if (!r.ok) throw new Error(`QIDO instances: ${r.status}`);
    return (await r.json()).length;
  });
}

async function signIn(page, email, password, { status = 200, path: wantPath = "/" } = {}) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  return navigate(page, () => page.getByRole("button", { name: EN.loginTitle }).click(), { status, path: wantPath });
}

// Signed in as `email`, whoever was before.
async function ensureSignedIn(page, email, password) {
  await navigate(page, () => page.goto(base + "/"));
  if (new URL(page.url()).pathname === "/" && (await page.locator(".who").count()) && (await text(page.locator(".who"))) === email) return;
  if (new URL(page.url()).pathname === "/") await signOut(page);
  await signIn(page, email, password);
}

async function signOut(page) {
  await navigate(page, () => page.getByRole("button", { name: EN.signOut }).click(), { path: "/login" });
  eq(await h1(page), EN.loginTitle, "heading after sign-out");
}

// ---------------------------------------------------------------- uploads ---

// The result table as data: one entry per row.
async function uploadRows(page) {
  return page.locator("#results tbody tr").evaluateAll((rows) =>
    rows.map((tr) => ({
      sub: tr.classList.contains("sub"),
      name: tr.querySelector("td.name")?.textContent.trim(),
      status: tr.querySelector("td.status")?.innerText.trim(),
      badge: tr.querySelector(".badge")?.className.replace("badge", "").trim() || null,
      badgeText: tr.querySelector(".badge")?.textContent.trim() || null,
      reason: tr.querySelector(".reason")?.textContent.trim() || null,
      detail: tr.querySelector(".reason")?.title || null,
      bars: tr.querySelectorAll("progress").length,
    })),
  );
}

// Waits until the page says every file chosen so far is done ("N / N", Finished).
async function waitUploadsDone(page, total, doneLabel = EN.done) {
  await page.waitForFunction(
    ([n, label]) =>
      document.getElementById("overall-count")?.textContent === `${n} / ${n}` &&
      document.getElementById("overall-label")?.textContent === label,
    [total, doneLabel],
    { timeout: 30_000 },
  );
  const overall = await page.locator("#overall").evaluate((p) => ({ value: p.value, max: p.max }));
  eq(overall.value, overall.max, "overall progress bar value (100%)");
}

function corpus(rel) {
  const p = path.join(CORPUS, rel);
  check(fs.existsSync(p), `corpus file missing: ${p} (set STUDYLINK_CORPUS)`);
  return p;
}

// ------------------------------------------------------------------ tests ---

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  for (const f of fs.readdirSync(OUT)) if (f.endsWith(".png")) fs.rmSync(path.join(OUT, f));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "studylink-e2e-"));
  const started = Date.now();
  log(`e2e: server ${BIN}\ne2e: corpus ${CORPUS}\ne2e: screenshots ${OUT}`);

  let setupUrl, printedSetupUrl;
  try {
    ({ base, setupUrl, printedSetupUrl } = await startServer(path.join(work, "data")));
    log(`e2e: server at ${base}`);
    if (new URL(printedSetupUrl).origin !== base) {
      notes.push(`the server printed the setup URL ${new URL(printedSetupUrl).origin}/setup/… but listens on ${base} (public URL defaults to the configured listen address, port 0)`);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    await runSteps({ setupUrl, work });
  } catch (e) {
    results.push({ name: "harness", status: "fail", ms: 0, error: e && e.stack ? e.stack : String(e) });
    log(`  ✘ FAIL  harness\n${indent(e && e.stack ? e.stack : e)}`);
  } finally {
    await browser?.close().catch(() => {});
    const diedEarly = serverExit !== null;
    await stopServer();
    if (server) {
      const ok = !diedEarly && serverExit && serverExit.code === 0;
      results.push({
        name: "server: ran throughout and stopped cleanly on SIGTERM",
        status: ok ? "pass" : "fail",
        ms: 0,
        error: ok ? undefined : `exit ${JSON.stringify(serverExit)}${diedEarly ? " before the tests ended" : ""}; see ${path.join(OUT, "server.log")}`,
      });
      log(`  ${ok ? "✔ pass" : "✘ FAIL"}  server: ran throughout and stopped cleanly on SIGTERM`);
    }
    serverLog?.end();
    fs.rmSync(work, { recursive: true, force: true });
  }

  const count = (s) => results.filter((r) => r.status === s).length;
  const failed = count("fail");
  log("");
  if (failed) {
    log("Failures:");
    for (const r of results.filter((r) => r.status === "fail")) log(`  ${r.name}\n${indent(r.error)}`);
  }
  for (const n of notes) log(`note: ${n}`);
  log(`e2e: ${count("pass")} passed, ${failed} failed, ${count("skip")} skipped in ${((Date.now() - started) / 1000).toFixed(1)} s (screenshots: ${path.relative(ROOT, OUT) || "."})`);
  return failed === 0 && count("skip") === 0 ? 0 : 1;
}

async function runSteps({ setupUrl, work }) {
  // The admin's browser: one context (one cookie jar) for most of the run.
  const admin = await newContext("admin", { scoped: false });
  const page = admin.page;

  // --- 1. first-admin setup ---------------------------------------------
  await step("setup: the one-time URL creates the first admin and signs in", [], async () => {
    await navigate(page, () => page.goto(setupUrl));
    eq(await h1(page), EN.setupTitle, "setup heading");
    eq(await htmlLang(page), "en", "<html lang>");
    await shot(page, "setup-form");
    // A typo in the confirmation is caught without burning the link.
    await page.getByLabel("Email").fill("Admin@Clinic.example ");
    await page.getByLabel(/^Password/).fill(ADMIN.password);
    await page.getByLabel("Repeat the password").fill(ADMIN.password + "x");
    await navigate(page, () => page.getByRole("button", { name: "Create administrator and sign in" }).click(), { status: 400 });
    eq(await text(page.locator("[role=alert]")), EN.mismatch, "mismatch error");
    eq(await page.getByLabel("Email").inputValue(), ADMIN.email, "email kept (normalised) after the error");
    await shot(page, "setup-mismatch");
    await page.getByLabel(/^Password/).fill(ADMIN.password);
    await page.getByLabel("Repeat the password").fill(ADMIN.password);
    await navigate(page, () => page.getByRole("button", { name: "Create administrator and sign in" }).click(), { path: "/" });
    eq(await h1(page), EN.studies, "heading after setup");
    eq(await text(page.locator(".who")), ADMIN.email, "signed-in user in the header");
    eq(await instanceCount(page), 0, "images stored on a new server");
    const cookies = await admin.context.cookies(base);
    const session = cookies.find((c) => c.name === "studylink_session");
    check(session && session.httpOnly && session.sameSite === "Lax", `session cookie must be HttpOnly SameSite=Lax: ${JSON.stringify(session)}`);
    await shot(page, "studies-after-setup");
  });

  await step("setup: the used link shows the 'already used' page", ["setup: the one-time URL creates the first admin and signs in"], async () => {
    await navigate(page, () => page.goto(setupUrl), { status: 410 });
    eq(await h1(page), EN.setupInvalid, "heading of a used setup link");
    check((await page.locator("main").innerText()).includes("already used"), "the page says the link was already used");
    await shot(page, "setup-link-used");
  });

  // --- 2. sign out / wrong password / sign in --------------------------------
  await step("login: sign out, wrong password → generic error, right one → Studies", ["setup: the one-time URL creates the first admin and signs in"], async () => {
    await navigate(page, () => page.goto(base + "/"));
    await signOut(page);
    await shot(page, "login");
    // Signed out: staff pages send you to sign in, and back afterwards.
    await navigate(page, () => page.goto(base + "/upload"), { path: "/login" });
    eq(new URL(page.url()).searchParams.get("next"), "/upload", "next= after the redirect to sign in");
    await signIn(page, ADMIN.email, "not the password at all", { status: 401, path: "/login" });
    const wrongPassword = await text(page.locator("[role=alert]"));
    eq(wrongPassword, EN.loginFailed, "error for a wrong password");
    eq(await page.getByLabel("Email").inputValue(), ADMIN.email, "email kept after a failed sign-in");
    eq(await page.getByLabel("Password").inputValue(), "", "password cleared after a failed sign-in");
    await shot(page, "login-wrong-password");
    // An unknown address gets the very same message (no account enumeration).
    await signIn(page, "nobody@clinic.example", ADMIN.password, { status: 401, path: "/login" });
    eq(await text(page.locator("[role=alert]")), wrongPassword, "error for an unknown email");
    await signIn(page, ADMIN.email, ADMIN.password, { path: "/upload" });
    eq(await h1(page), EN.uploadTitle, "back on the page asked for before sign-in");
    await navigate(page, () => page.getByRole("link", { name: EN.studies, exact: true }).click(), { path: "/" });
    eq(await h1(page), EN.studies, "Studies heading");
    await shot(page, "studies-signed-in");
  });

  // --- 3. uploads -----------------------------------------------------------
  const folder = path.join(work, "PATIENT_CD");
  fs.mkdirSync(path.join(folder, "SERIES1"), { recursive: true });
  fs.copyFileSync(corpus("ct/ct_small_evrle_signed16.dcm"), path.join(folder, "ct_small.dcm"));
  fs.copyFileSync(corpus("ultrasound/us_palette_rle_philips_cx50.dcm"), path.join(folder, "us_palette.dcm"));
  fs.copyFileSync(corpus("cr_dx_mg/dx_mono1_8bit_small.dcm"), path.join(folder, "SERIES1", "IM000001"));
  fs.copyFileSync(corpus("invalid_and_edge/not_dicom_bad.dcm"), path.join(folder, "not_dicom_bad.dcm"));
  fs.writeFileSync(path.join(folder, ".DS_Store"), "Bud1 operating-system clutter");
  const folderFiles = ["PATIENT_CD/ct_small.dcm", "PATIENT_CD/us_palette.dcm", "PATIENT_CD/SERIES1/IM000001", "PATIENT_CD/not_dicom_bad.dcm"];
  let before = 0;
  let storedByUs = 0;

  const uploadFolder = "upload: a folder → stored / refused with reason, progress 100%";
  await step(uploadFolder, ["login: sign out, wrong password → generic error, right one → Studies"], async () => {
    before = await instanceCount(page);
    await navigate(page, () => page.getByRole("link", { name: EN.upload, exact: true }).click(), { path: "/upload" });
    eq(await h1(page), EN.uploadTitle, "upload heading");
    check(await page.locator("#results").isHidden(), "results table hidden before any upload");
    await shot(page, "upload-empty");
    await page.locator("#pick-folder").setInputFiles(folder);
    await waitUploadsDone(page, folderFiles.length);
    const rows = await uploadRows(page);
    eq(rows.length, folderFiles.length, "rows (the .DS_Store is skipped)");
    eq(JSON.stringify(rows.map((r) => r.name).sort()), JSON.stringify([...folderFiles].sort()), "file names with folder paths");
    for (const r of rows) {
      eq(r.bars, 0, `per-file progress bar gone when done (${r.name})`);
      if (r.name.endsWith("not_dicom_bad.dcm")) {
        eq(r.badge, "refused", `status of ${r.name}`);
        eq(r.badgeText, EN.refused, `label of ${r.name}`);
        check(EN.refusalReasons.includes(r.reason), `refusal reason shown for ${r.name}: ${r.reason}`);
        check(r.detail, `technical detail (tooltip) for ${r.name}`);
      } else {
        eq(r.badge, "stored", `status of ${r.name} (${r.reason || ""} ${r.detail || ""})`);
        eq(r.badgeText, EN.stored, `label of ${r.name}`);
      }
    }
    eq(await text(page.locator("#summary")), `${EN.stored}: 3 · ${EN.refused}: 1`, "summary line");
    storedByUs += 3;
    await shot(page, "upload-folder-done");
  });

  await step("upload: the same folder again → already stored", [uploadFolder], async () => {
    await page.locator("#pick-folder").setInputFiles(folder);
    await waitUploadsDone(page, folderFiles.length * 2);
    const rows = (await uploadRows(page)).slice(folderFiles.length);
    eq(rows.length, folderFiles.length, "rows added by the second upload");
    for (const r of rows) {
      const want = r.name.endsWith("not_dicom_bad.dcm") ? "refused" : "duplicate";
      eq(r.badge, want, `status of ${r.name} the second time`);
      if (want === "duplicate") eq(r.badgeText, EN.duplicate, `label of ${r.name}`);
    }
    eq(await text(page.locator("#summary")), `${EN.stored}: 3 · ${EN.duplicate}: 3 · ${EN.refused}: 2`, "summary line");
    await shot(page, "upload-folder-again");
  });

  const uploadZip = "upload: a ZIP made on the fly → every entry stored";
  await step(uploadZip, [uploadFolder], async () => {
    const zipPath = path.join(work, "export.zip");
    const zip = zipSync({
      "CD/IMG0001": new Uint8Array(fs.readFileSync(corpus("ct/ct_wg04_ct1_j2k_lossy.dcm"))),
      "CD/IMG0002": new Uint8Array(fs.readFileSync(corpus("ct/ct_wg04_ct2_jpegls_nearlossless.dcm"))),
      "CD/DICOMDIR": new Uint8Array(Buffer.from("not an image, the CD index")),
      "__MACOSX/CD/._IMG0001": new Uint8Array(Buffer.from("resource fork")),
    });
    fs.writeFileSync(zipPath, zip);
    // A fresh page, so the table holds just this upload.
    await navigate(page, () => page.goto(base + "/upload"));
    await page.locator("#pick-files").setInputFiles(zipPath);
    await waitUploadsDone(page, 1);
    const rows = await uploadRows(page);
    eq(rows.length, 3, "rows: the archive and its two images (DICOMDIR and __MACOSX skipped)");
    eq(rows[0].name, "export.zip", "archive row");
    eq(rows[0].status, `${EN.stored}: 2`, "archive row tally");
    eq(JSON.stringify(rows.slice(1).map((r) => [r.sub, r.name, r.badge])), JSON.stringify([[true, "export.zip/CD/IMG0001", "stored"], [true, "export.zip/CD/IMG0002", "stored"]]), "entry rows");
    storedByUs += 2;
    await shot(page, "upload-zip-done");
  });

  await step("upload: progress bars move while a slow upload runs", [uploadFolder], async () => {
    // Throttle the upload link so the per-file bar can be seen part-way.
    const cdp = await admin.context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 600 * 1024 });
    try {
      await navigate(page, () => page.goto(base + "/upload"));
      await page.locator("#pick-files").setInputFiles(corpus("ultrasound/us_cine_jpegbaseline_34f_hp_echo.dcm"));
      const partial = await page.waitForFunction(() => {
        const bar = document.querySelector("#results td.status progress");
        const all = document.getElementById("overall");
        return bar && bar.value > 0.05 && bar.value < 0.95 && all.value > 0 && all.value < 1 ? { file: bar.value, overall: all.value } : null;
      }, null, { timeout: 15_000, polling: 20 });
      const v = await partial.jsonValue();
      await shot(page, "upload-in-progress");
      await waitUploadsDone(page, 1);
      const rows = await uploadRows(page);
      eq(rows[0].badge, "stored", `status of the slow upload (${rows[0].reason || ""})`);
      log(`      (seen mid-upload: file ${(v.file * 100).toFixed(0)}%, overall ${(v.overall * 100).toFixed(0)}%)`);
      storedByUs += 1;
    } finally {
      await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 }).catch(() => {});
      await cdp.detach().catch(() => {});
    }
  });

  await step("studies: the image count went up by what was stored", [uploadFolder], async () => {
    await navigate(page, () => page.getByRole("link", { name: EN.studies, exact: true }).click(), { path: "/" });
    eq(await instanceCount(page), before + storedByUs, "images stored");
    await shot(page, "studies-after-uploads");
  });

  // --- 4. users, API keys, a staff account ----------------------------------------
  let staffPassword;
  const addUser = "admin users: add a staff user → password shown once";
  await step(addUser, ["login: sign out, wrong password → generic error, right one → Studies"], async () => {
    await navigate(page, () => page.getByRole("link", { name: EN.users, exact: true }).click(), { path: "/admin/users" });
    eq(await h1(page), EN.users, "users heading");
    eq(JSON.stringify(await navLinks(page)), JSON.stringify([EN.studies, EN.upload, EN.users, EN.apiKeys, EN.settings, EN.outbox]), "admin navigation");
    eq(await page.locator("nav.mainnav a[aria-current=page]").innerText(), EN.users, "current nav entry");
    await page.getByLabel("Email").fill(STAFF_EMAIL);
    eq(await page.getByLabel("Role").inputValue(), "staff", "default role");
    await navigate(page, () => page.getByRole("button", { name: "Add user" }).click(), { path: "/admin/users" });
    const notice = page.locator(".notice[role=status]");
    check((await notice.innerText()).includes(EN.userCreated(STAFF_EMAIL)), "creation notice names the user");
    staffPassword = await text(notice.locator(".secret code"));
    check(staffPassword.length >= 12, `generated password looks like one: ${staffPassword.length} chars`);
    const table = await page.locator("main table tbody tr").allInnerTexts();
    check(table.some((r) => r.includes(STAFF_EMAIL) && r.includes("Staff")), `new user listed as Staff: ${table.join(" | ")}`);
    check(table.some((r) => r.includes(ADMIN.email) && r.includes("Administrator")), "admin listed as Administrator");
    await shot(page, "users-created");
    // Shown once: not after a reload, and never in the URL.
    check(!page.url().includes(staffPassword), "password not in the URL");
    // (A reload would re-POST the form: the password page is the POST's answer.)
    await navigate(page, () => page.goto(base + "/admin/users"));
    eq(await page.locator(".notice").count(), 0, "no password notice when the page is opened again");
    check(!(await page.content()).includes(staffPassword), "password gone from the page");
    // The same email twice is refused with a message.
    await page.getByLabel("Email").fill(STAFF_EMAIL.toUpperCase());
    await navigate(page, () => page.getByRole("button", { name: "Add user" }).click(), { status: 409 });
    eq(await text(page.locator("[role=alert]")), "That email already has a user.", "duplicate user error");
    await shot(page, "users-duplicate");
  });

  await step("admin API keys: create (shown once, works), revoke after confirming", ["login: sign out, wrong password → generic error, right one → Studies"], async () => {
    await navigate(page, () => page.getByRole("link", { name: EN.apiKeys, exact: true }).click(), { path: "/admin/api-keys" });
    check((await page.locator("main").innerText()).includes(EN.keysNone), "empty key list message");
    await page.getByLabel("Name").fill("Reading room PACS");
    await navigate(page, () => page.getByRole("button", { name: "Create key" }).click(), { path: "/admin/api-keys" });
    const key = await text(page.locator(".notice .secret code"));
    check(/^slk_/.test(key), `key format: ${key.slice(0, 8)}…`);
    const who = await fetch(base + "/api/v1/me", { headers: { authorization: `Bearer ${key}` } });
    eq(who.status, 200, "the new key authenticates");
    eq((await who.json()).label, "Reading room PACS", "key label");
    await shot(page, "api-key-created");
    // Cancelling the confirmation keeps the key; accepting revokes it.
    const revoke = page.getByRole("button", { name: "Revoke" });
    page.once("dialog", (d) => d.dismiss());
    await revoke.click();
    await page.waitForLoadState("load");
    eq(await revoke.count(), 1, "key still active after cancelling");
    let question = "";
    page.once("dialog", (d) => {
      question = d.message();
      d.accept();
    });
    await navigate(page, () => revoke.click(), { path: "/admin/api-keys" });
    check(question.includes("Reading room PACS"), `confirmation names the key: ${question}`);
    check((await page.locator("main table").innerText()).includes("Revoked"), "row shows Revoked");
    eq((await fetch(base + "/api/v1/me", { headers: { authorization: `Bearer ${key}` } })).status, 401, "revoked key refused");
    await shot(page, "api-key-revoked");
  });

  const staffLogin = "staff user: signs in, Users page is 403, upload works";
  await step(staffLogin, [addUser], async () => {
    await signOut(page);
    await signIn(page, STAFF_EMAIL, staffPassword);
    eq(await text(page.locator(".who")), STAFF_EMAIL, "signed-in staff user");
    eq(JSON.stringify(await navLinks(page)), JSON.stringify([EN.studies, EN.upload]), "staff navigation (no admin entries)");
    const count0 = await instanceCount(page);
    await shot(page, "staff-studies");
    for (const p of ["/admin/users", "/admin/api-keys"]) {
      await navigate(page, () => page.goto(base + p), { status: 403 });
      eq(await h1(page), EN.forbidden, `heading of ${p} for staff`);
      check((await page.locator("main").innerText()).includes(EN.adminOnly), `${p} explains why`);
    }
    await shot(page, "staff-users-forbidden");
    await navigate(page, () => page.goto(base + "/upload"));
    await page.locator("#pick-files").setInputFiles([corpus("ultrasound/us_rgb_evrle_small_esopecho.dcm"), path.join(folder, "ct_small.dcm")]);
    await waitUploadsDone(page, 2);
    const rows = await uploadRows(page);
    eq(JSON.stringify(rows.map((r) => [r.name, r.badge])), JSON.stringify([["us_rgb_evrle_small_esopecho.dcm", "stored"], ["ct_small.dcm", "duplicate"]]), "staff upload results");
    await shot(page, "staff-upload");
    await navigate(page, () => page.getByRole("link", { name: EN.studies, exact: true }).click(), { path: "/" });
    eq(await instanceCount(page), count0 + 1, "images after the staff upload");
    await signOut(page);
  });

  // --- 5. language -----------------------------------------------------------
  await step("language: the ES switch turns the pages Spanish (and back)", ["login: sign out, wrong password → generic error, right one → Studies"], async () => {
    await ensureSignedIn(page, ADMIN.email, ADMIN.password);
    await navigate(page, () => page.getByRole("link", { name: EN.upload, exact: true }).click(), { path: "/upload" });
    await navigate(page, () => page.locator(".langs a[lang=es]").click(), { path: "/upload" });
    eq(await htmlLang(page), ES.html, "<html lang>");
    eq(await h1(page), ES.uploadTitle, "upload heading in Spanish");
    eq(JSON.stringify(await navLinks(page)), JSON.stringify([ES.studies, ES.upload, ES.users, "Claves de API", ES.settings, ES.outbox]), "navigation in Spanish");
    eq(await text(page.getByRole("button", { name: ES.signOut })), ES.signOut, "sign-out button in Spanish");
    check((await page.locator("#dropzone").innerText()).includes(ES.pickFolder), "folder button in Spanish");
    eq(await page.locator(".langs strong").innerText(), "ES", "current language marked");
    // Upload messages come from the page too: a duplicate reads in Spanish.
    await page.locator("#pick-files").setInputFiles(path.join(folder, "ct_small.dcm"));
    await waitUploadsDone(page, 1, ES.done);
    eq((await uploadRows(page))[0].badgeText, ES.duplicate, "upload status in Spanish");
    await shot(page, "es-upload");
    await navigate(page, () => page.getByRole("link", { name: ES.studies, exact: true }).click(), { path: "/" });
    eq(await h1(page), ES.studies, "Studies heading in Spanish");
    check(/(estudios|Un estudio)$/.test(await text(page.locator("#results-summary"))), "study count in Spanish");
    await shot(page, "es-studies");
    await navigate(page, () => page.getByRole("link", { name: ES.users, exact: true }).click(), { path: "/admin/users" });
    check((await page.locator("main").innerText()).includes(ES.usersAdd), "users page in Spanish");
    await shot(page, "es-users");
    await navigate(page, () => page.locator(".langs a[lang=en]").click(), { path: "/admin/users" });
    eq(await htmlLang(page), "en", "<html lang> after switching back");
    eq(await h1(page), EN.users, "back in English");
  });

  await step("language: Accept-Language es gives a Spanish sign-in page; the switch wins over it", [], async () => {
    const es = await newContext("accept-language-es", { locale: "es-ES" });
    {
      await navigate(es.page, () => es.page.goto(base + "/login"));
      eq(await htmlLang(es.page), ES.html, "<html lang>");
      eq(await h1(es.page), ES.loginTitle, "sign-in heading");
      await es.page.getByLabel(ES.email).waitFor();
      eq(await text(es.page.getByRole("button", { name: ES.loginSubmit })), ES.loginSubmit, "sign-in button");
      await shot(es.page, "es-login");
      await navigate(es.page, () => es.page.locator(".langs a[lang=en]").click(), { path: "/login" });
      eq(await h1(es.page), EN.loginTitle, "the EN choice beats Accept-Language");
    }
  });

  // --- 7. keyboard -----------------------------------------------------------
  await step("keyboard: sign in with typing, Tab and Enter only", ["setup: the one-time URL creates the first admin and signs in"], async () => {
    const kb = await newContext("keyboard");
    // Playwright turns file-chooser interception on asynchronously when a listener
    // registers; registered here, long before the Enter below, it is on by then (a
    // native picker opened before would stay open, invisibly, and block the next).
    const choosers = [];
    kb.page.on("filechooser", (c) => choosers.push(c));
    {
      await navigate(kb.page, () => kb.page.goto(base + "/login"));
      const focused = () => kb.page.evaluate(() => document.activeElement?.getAttribute("name") || document.activeElement?.tagName);
      eq(await focused(), "email", "the email field has focus on load");
      const ring = await kb.page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      check(ring !== "none", "focused field shows a focus ring");
      await kb.page.keyboard.type(ADMIN.email);
      await kb.page.keyboard.press("Tab");
      eq(await focused(), "password", "Tab moves to the password");
      await kb.page.keyboard.type(ADMIN.password);
      await shot(kb.page, "keyboard-login");
      await navigate(kb.page, () => kb.page.keyboard.press("Enter"), { path: "/" });
      eq(await h1(kb.page), EN.studies, "signed in with the keyboard");
      // The upload page: Tab reaches the drop zone, Enter opens the file picker.
      await navigate(kb.page, () => kb.page.goto(base + "/upload"));
      const order = [];
      for (let i = 0; i < 20; i++) {
        await kb.page.keyboard.press("Tab");
        const f = await kb.page.evaluate(() => {
          const a = document.activeElement;
          return a.id || (a.textContent || "").trim().slice(0, 30) || a.tagName;
        });
        order.push(f);
        if (f === "dropzone") break;
      }
      check(order.includes("dropzone"), `Tab reaches the drop zone (order: ${order.join(" → ")})`);
      // Several contexts are open; a page without focus may have its file picker suppressed.
      await kb.page.bringToFront();
      await kb.page.evaluate(() => document.getElementById("pick-files").addEventListener("click", () => (window.__pickerClicked = true)));
      const pressEnterForChooser = async () => {
        await kb.page.keyboard.press("Enter");
        return until("a file picker after Enter", () => choosers.shift(), 5000).catch(() => null);
      };
      let chooser = await pressEnterForChooser();
      if (!chooser) {
        notes.push("keyboard: the first Enter on the drop zone opened no interceptable picker; the second did");
        chooser = await pressEnterForChooser();
      }
      if (!chooser) {
        const why = await kb.page.evaluate(() => ({ clicked: !!window.__pickerClicked, focus: document.hasFocus(), active: document.activeElement?.id }));
        throw new Failure(`no file picker after Enter on the drop zone, twice (${JSON.stringify(why)})`);
      }
      check(chooser.isMultiple(), "Enter on the drop zone opens a multi-file picker");
      await chooser.setFiles([]);
      const folderReachable = await kb.page.evaluate(() => {
        const label = document.getElementById("pick-folder").closest("label");
        return label.tabIndex >= 0 || getComputedStyle(document.getElementById("pick-folder")).display !== "none";
      });
      if (!folderReachable) notes.push(`upload page: "Choose files" / "Choose a folder" are <label>s around hidden inputs, so Tab skips them; keyboard users get files via the drop zone (Enter) but have no way to pick a folder. Tab order: ${order.join(" → ")}`);
    }
  });

  // --- 8. the Studies screen and the study view, with the whole corpus -------------
  await studiesSteps(
    {
      step, navigate, shot, check, eq, text, htmlLang, notes, EN, ES, undecodable,
      base: () => base,
      dicom: () => dicom,
      corpus: CORPUS,
      ensureSignedIn: (p) => ensureSignedIn(p, ADMIN.email, ADMIN.password),
    },
    page,
  );

  // --- 9. Send to patient: email, SMS, the patient's page, password and link code ---
  await sendSteps(
    {
      step, navigate, shot, check, eq, text, until, log, notes, newContext,
      base: () => base,
      dicom: () => dicom,
      corpus: CORPUS,
      adminEmail: ADMIN.email,
      ensureSignedIn: (p) => ensureSignedIn(p, ADMIN.email, ADMIN.password),
    },
    page,
  );

  // --- narrow screens ------------------------------------------------------------
  await step("layout: the pages at phone width (screenshots; overflow reported as notes)", ["setup: the one-time URL creates the first admin and signs in"], async () => {
    const m = await newContext("phone", { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 });
    {
      await navigate(m.page, () => m.page.goto(base + "/login"));
      await shot(m.page, "phone-login");
      await signIn(m.page, ADMIN.email, ADMIN.password);
      await shot(m.page, "phone-studies");
      await navigate(m.page, () => m.page.goto(base + "/upload"));
      await m.page.locator("#pick-folder").setInputFiles(folder);
      await waitUploadsDone(m.page, folderFiles.length);
      await shot(m.page, "phone-upload");
      await navigate(m.page, () => m.page.goto(base + "/admin/users"));
      await shot(m.page, "phone-users");
      await navigate(m.page, () => m.page.goto(base + "/admin/api-keys"));
      await shot(m.page, "phone-api-keys");
    }
  });

  await admin.context.close();

  // --- 6. headers, console, requests: gathered on every page above ---------------------
  await step("every HTML page: security headers; static files: nosniff", [], async () => {
    check(htmlPagesChecked.size >= 8, `only ${htmlPagesChecked.size} HTML responses seen`);
    check(staticChecked.size >= 3, `only ${staticChecked.size} static files seen`);
    const bad = problems.filter((p) => p.kind === "security header");
    check(bad.length === 0, bad.map((p) => p.text).join("\n"));
    log(`      (${htmlPagesChecked.size} HTML responses: ${[...htmlPagesChecked].sort().join(", ")})`);
  });

  await step("every page: no console errors, failed or external requests, unexpected HTTP errors or overflow", [], async () => {
    // A document we asked for with a 4xx status (wrong password, 403…) logs
    // "Failed to load resource" in Chromium; that one is expected.
    const expectedConsole = (p) =>
      p.kind === "console.error" &&
      /^Failed to load resource: the server responded with a status of (\d+)/.test(p.text) &&
      expectedErrors.has(`${p.text.match(/status of (\d+)/)[1]} ${p.url}`);
    for (const p of problems.filter((p) => p.kind === "console.warning")) notes.push(`console warning [${p.label}] ${p.url}: ${p.text}`);
    // Phone width is reported, not failed on (see README).
    const phone = (p) => p.kind === "horizontal overflow" && p.label.startsWith("phone");
    for (const p of problems.filter(phone)) notes.push(`phone layout: ${p.label}: ${p.text}`);
    const bad = problems.filter((p) => !["security header", "console.warning"].includes(p.kind) && !phone(p) && !expectedConsole(p));
    log(`      (${problems.filter(expectedConsole).length} "Failed to load resource" messages for the intended 4xx pages ignored)`);
    check(bad.length === 0, bad.map((p) => `[${p.label}] ${p.kind}: ${p.text}`).join("\n"));
  });
}

const watchdog = setTimeout(() => {
  console.error(`e2e: watchdog: still running after ${WATCHDOG_MS / 1000} s, giving up`);
  stopServer().finally(() => process.exit(2));
}, WATCHDOG_MS);
watchdog.unref();

const code = await main();
process.exit(code);
