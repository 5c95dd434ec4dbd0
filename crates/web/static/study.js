// The study view: thumbnail selection (click, shift-click ranges, select all,
// Space on a thumbnail), the Send to menu, the Info/Shared tabs and the image
// viewer (cine loops at the instance's frame rate). Texts come from data-*
// attributes the server wrote in the page's language.
"use strict";

(() => {
  const form = document.getElementById("send-form");
  if (!form) return;
  const boxes = () => Array.from(form.querySelectorAll('input[name="instances"]'));

  // --- selection -------------------------------------------------------------
  const status = document.getElementById("selection-status");
  const selectAll = document.getElementById("select-all");
  let anchor = null; // the last checkbox clicked without Shift

  function updateSelection() {
    const all = boxes();
    const n = all.filter((b) => b.checked).length;
    status.textContent =
      n === 0 ? status.dataset.none : n === 1 ? status.dataset.one : status.dataset.many.replace("{n}", String(n));
    const everything = all.length > 0 && n === all.length;
    selectAll.textContent = everything ? selectAll.dataset.none : selectAll.dataset.all;
    selectAll.setAttribute("aria-pressed", String(everything));
  }

  form.addEventListener("click", (e) => {
    const box = e.target.closest('input[name="instances"]');
    if (!box) return;
    if (e.shiftKey && anchor && anchor !== box) {
      const all = boxes();
      const [a, b] = [all.indexOf(anchor), all.indexOf(box)].sort((x, y) => x - y);
      for (const other of all.slice(a, b + 1)) other.checked = box.checked;
    } else {
      anchor = box;
    }
  });
  form.addEventListener("change", updateSelection);

  selectAll.hidden = false;
  selectAll.addEventListener("click", () => {
    const all = boxes();
    const target = !all.every((b) => b.checked);
    for (const b of all) b.checked = target;
    anchor = null;
    updateSelection();
  });

  // Space on a thumbnail selects it (Enter opens it); the checkbox itself
  // already toggles with Space.
  form.addEventListener("keydown", (e) => {
    const open = e.target.closest("button.open");
    if (!open || e.key !== " ") return;
    e.preventDefault();
    const box = open.parentElement.querySelector('input[name="instances"]');
    box.checked = !box.checked;
    anchor = box;
    updateSelection();
  });

  // Back/forward cache and form restore can bring checked boxes back.
  updateSelection();
  window.addEventListener("pageshow", updateSelection);

  // --- Send to menu (a <details> disclosure) ----------------------------------
  const menu = document.getElementById("send-to-menu");
  menu.addEventListener("toggle", () => {
    if (menu.open) menu.querySelector(".menu-list button").focus();
  });
  menu.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && menu.open) {
      e.preventDefault();
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  document.addEventListener("click", (e) => {
    if (menu.open && !menu.contains(e.target)) menu.open = false;
  });

  // --- tabs --------------------------------------------------------------------
  const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
  function selectTab(tab, focus) {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
  }
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab, false));
    tab.addEventListener("keydown", (e) => {
      const i = tabs.indexOf(tab);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      selectTab(tabs[(next + tabs.length) % tabs.length], true);
    });
  }

  // --- viewer ------------------------------------------------------------------
  const viewer = document.getElementById("viewer");
  const img = document.getElementById("viewer-img");
  const title = document.getElementById("viewer-title");
  const frameLabel = document.getElementById("viewer-frame");
  const msg = document.getElementById("viewer-msg");
  const play = document.getElementById("viewer-play");
  const opens = () => Array.from(form.querySelectorAll("button.open"));
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const DEFAULT_FRAME_MS = 40; // 25 frames/s when the instance doesn't say
  const LOADERS = 4; // frames fetched at once

  let current = null; // the thumbnail button shown
  let session = 0; // increments on every open/close so late fetches are dropped
  let cine = null; // { urls: [], total, index, ms, timer, playing }

  function showFrame(i) {
    cine.index = i;
    img.src = cine.urls[i];
    frameLabel.textContent = viewer.dataset.frame.replace("{n}", String(i + 1)).replace("{total}", String(cine.total));
    img.dataset.frame = String(i + 1);
  }

  function setPlaying(on) {
    if (!cine) return;
    cine.playing = on;
    play.textContent = on ? viewer.dataset.pause : viewer.dataset.play;
    play.setAttribute("aria-pressed", String(on));
    clearTimeout(cine.timer);
    if (on) tick();
  }

  // Advances only onto frames already loaded, so a slow network slows the
  // loop down instead of showing broken images.
  function tick() {
    if (!cine || !cine.playing) return;
    const next = (cine.index + 1) % cine.total;
    if (cine.urls[next]) showFrame(next);
    cine.timer = setTimeout(tick, cine.ms);
  }

  async function frameInterval(base) {
    try {
      const r = await fetch(base + "/metadata", { headers: { accept: "application/dicom+json" } });
      if (!r.ok) return DEFAULT_FRAME_MS;
      const [ds] = await r.json();
      const v = (tag) => ds && ds[tag] && ds[tag].Value && Number(ds[tag].Value[0]);
      const frameTime = v("00181063"); // Frame Time, ms
      const cineRate = v("00180040") || v("00082144"); // Cine Rate / Recommended Display Frame Rate, fps
      let ms = frameTime > 0 ? frameTime : cineRate > 0 ? 1000 / cineRate : DEFAULT_FRAME_MS;
      return Math.min(Math.max(ms, 10), 1000);
    } catch {
      return DEFAULT_FRAME_MS;
    }
  }

  // Frames still loading when the viewer closes or moves on are cancelled:
  // the server stops rendering them and the next image's frames come sooner.
  let loading = new AbortController();

  async function loadFrames(base, total, mine) {
    let next = 0;
    const one = async () => {
      while (next < total && mine === session) {
        const i = next++;
        try {
          const r = await fetch(`${base}/frames/${i + 1}/rendered`, { headers: { accept: "image/jpeg" }, signal: loading.signal });
          if (!r.ok) throw new Error(String(r.status));
          const url = URL.createObjectURL(await r.blob());
          if (mine !== session) { URL.revokeObjectURL(url); return; }
          cine.urls[i] = url;
          if (i === 0) showFrame(0);
        } catch {
          if (i === 0 && mine === session) fail();
        }
      }
    };
    await Promise.all(Array.from({ length: LOADERS }, one));
  }

  function fail() {
    msg.textContent = viewer.dataset.error;
    msg.hidden = false;
    img.hidden = true;
  }

  function reset() {
    session++;
    loading.abort();
    loading = new AbortController();
    if (cine) {
      clearTimeout(cine.timer);
      for (const u of cine.urls) if (u) URL.revokeObjectURL(u);
    }
    cine = null;
    img.removeAttribute("src");
    delete img.dataset.frame;
    img.hidden = false;
    msg.hidden = true;
    play.hidden = true;
    frameLabel.textContent = "";
  }

  async function show(button) {
    reset();
    const mine = session;
    current = button;
    title.textContent = button.dataset.title;
    img.alt = button.dataset.title;
    const base = button.dataset.base;
    const frames = Number(button.dataset.frames) || 1;
    if (button.dataset.document) {
      img.hidden = true;
      msg.textContent = viewer.dataset.document;
      msg.hidden = false;
      return;
    }
    img.onerror = () => { if (!cine) fail(); };
    if (frames === 1) {
      img.src = base + "/rendered";
      return;
    }
    cine = { urls: new Array(frames), total: frames, index: 0, ms: DEFAULT_FRAME_MS, timer: 0, playing: false };
    play.hidden = false;
    frameLabel.textContent = viewer.dataset.frame.replace("{n}", "1").replace("{total}", String(frames));
    const loading = loadFrames(base, frames, mine);
    const ms = await frameInterval(base);
    if (mine !== session) return;
    cine.ms = ms;
    setPlaying(!reduceMotion);
    await loading;
  }

  function step(delta) {
    const all = opens();
    const i = all.indexOf(current);
    const next = all[(i + delta + all.length) % all.length];
    if (next) show(next);
  }

  form.addEventListener("click", (e) => {
    const button = e.target.closest("button.open");
    if (!button) return;
    show(button);
    if (!viewer.open) viewer.showModal();
  });
  play.addEventListener("click", () => setPlaying(!(cine && cine.playing)));
  document.getElementById("viewer-prev").addEventListener("click", () => step(-1));
  document.getElementById("viewer-next").addEventListener("click", () => step(1));
  document.getElementById("viewer-close").addEventListener("click", () => viewer.close());
  viewer.addEventListener("keydown", (e) => {
    if (e.key === "ArrowLeft") { e.preventDefault(); step(-1); }
    else if (e.key === "ArrowRight") { e.preventDefault(); step(1); }
    else if (e.key === " " && cine && e.target.tagName !== "BUTTON") { e.preventDefault(); setPlaying(!cine.playing); }
  });
  // Esc closes a modal <dialog> by itself; both ways end up here.
  viewer.addEventListener("close", () => {
    const back = current;
    reset();
    current = null;
    if (back) back.focus();
  });
  // A click on the backdrop (outside the dialog's box) closes it too.
  viewer.addEventListener("click", (e) => {
    if (e.target === viewer) viewer.close();
  });
})();
