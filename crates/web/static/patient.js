// The patient landing page: the password form's "show what I type", and the
// viewer over the gallery (zoom and pan with pointer events, pinch, wheel,
// double-tap; cine loops as <video>; swipe or arrow keys between items).
// Without this script every thumbnail and download is still a plain link.
"use strict";

(() => {
  const reveal = document.getElementById("reveal");
  if (reveal) {
    reveal.closest(".reveal-row").hidden = false;
    const fields = Array.from(document.querySelectorAll(".gate input[type=password]"));
    reveal.addEventListener("change", () => {
      for (const f of fields) f.type = reveal.checked ? "text" : "password";
    });
    // After a wrong or missing answer, straight back to that field.
    const bad = document.querySelector(".gate [aria-invalid=true]");
    if (bad) bad.focus();
  }

  const dlg = document.getElementById("viewer");
  // Asks (HEAD, not counted as a download) for `url` until it exists, then
  // reloads the page, unless the viewer is open.
  const reloadOnceThere = (url, every) => {
    const poll = () => fetch(url, { method: "HEAD", cache: "no-store", credentials: "same-origin" })
      .then((r) => {
        if (!r.ok) return setTimeout(poll, every);
        if (dlg && dlg.open) dlg.addEventListener("close", () => location.reload(), { once: true });
        else location.reload();
      }, () => setTimeout(poll, every));
    setTimeout(poll, every);
  };
  // Images still being checked for text: their thumbnail answers 404 until
  // they are ready. Videos still being encoded: the first one's MP4.
  const checking = document.querySelector("#gallery [data-checking]");
  const pending = document.querySelector("#gallery a.thumb[data-pending]");
  if (window.fetch && checking) reloadOnceThere(checking.dataset.checking, 2000);
  else if (window.fetch && pending) reloadOnceThere(pending.dataset.poster.replace(/\/jpg$/, "/mp4"), 3000);
  if (!dlg || typeof dlg.showModal !== "function") return;
  const $ = (id) => document.getElementById(id);
  const stage = $("v-stage"), img = $("v-img"), video = $("v-video"), title = $("v-title"), dls = $("v-dl");
  const links = Array.from(document.querySelectorAll("#gallery a.thumb[data-i]")).filter((a) => a.dataset.kind !== "document");
  const items = links.map((a) => {
    const t = a.querySelector("img");
    return {
      a,
      // A loop whose video is still being made opens as its first picture.
      kind: a.dataset.pending ? "image" : a.dataset.kind,
      src: a.getAttribute("href"),
      poster: a.dataset.poster || "",
      thumb: t ? t.getAttribute("src") : "",
      label: t ? t.alt : a.textContent.trim(),
      dl: a.closest(".item").querySelector("ul.dl"),
    };
  });
  if (!items.length) return;

  let cur = -1, s = 1, tx = 0, ty = 0;
  const MAX = 8;
  const apply = () => { img.style.transform = `translate(${tx}px,${ty}px) scale(${s})`; };
  const reset = () => { s = 1; tx = 0; ty = 0; apply(); };
  const isImage = () => cur >= 0 && items[cur].kind !== "cine";

  // Keeps the picture from being dragged out of sight.
  function clamp() {
    const w = stage.clientWidth, h = stage.clientHeight;
    const mx = (w * s - w) / 2, my = (h * s - h) / 2;
    tx = Math.max(-mx, Math.min(mx, tx));
    ty = Math.max(-my, Math.min(my, ty));
  }

  // Zooms by `f` keeping the point under (cx, cy) where it is.
  function zoomAt(f, cx, cy) {
    const r = stage.getBoundingClientRect();
    if (cx === undefined) { cx = r.left + r.width / 2; cy = r.top + r.height / 2; }
    const px = cx - (r.left + r.width / 2), py = cy - (r.top + r.height / 2);
    const ns = Math.max(1, Math.min(MAX, s * f)), k = ns / s;
    tx = px - (px - tx) * k;
    ty = py - (py - ty) * k;
    s = ns;
    if (s === 1) { tx = 0; ty = 0; }
    clamp();
    apply();
  }

  function show(i) {
    cur = (i + items.length) % items.length;
    const it = items[cur];
    title.textContent = it.label;
    reset();
    dlg.classList.toggle("video", it.kind === "cine");
    if (it.kind === "cine") {
      img.hidden = true;
      img.removeAttribute("src");
      video.hidden = false;
      video.poster = it.poster;
      video.setAttribute("aria-label", it.label);
      video.src = it.src;
      const p = video.play();
      if (p) p.catch(() => {});
    } else {
      stopVideo();
      video.hidden = true;
      img.hidden = false;
      img.alt = it.label;
      // The thumbnail at once, the full picture when it has arrived.
      img.src = it.thumb || it.src;
      if (it.thumb) {
        const full = new Image();
        full.onload = () => { if (items[cur] === it) img.src = it.src; };
        full.src = it.src;
      }
    }
    dls.replaceChildren(...Array.from(it.dl.children, (li) => li.cloneNode(true)));
    const next = items[(cur + 1) % items.length];
    if (next !== it && next.kind !== "cine") new Image().src = next.src;
  }

  function stopVideo() {
    if (!video.getAttribute("src")) return;
    video.pause();
    video.removeAttribute("src");
    video.load();
  }

  function open(i) {
    show(i);
    if (!dlg.open) {
      dlg.showModal();
      history.pushState({ viewer: true }, "");
    }
  }

  const single = items.length < 2;
  for (const b of dlg.querySelectorAll("[data-act=prev],[data-act=next]")) b.hidden = single;

  document.getElementById("gallery").addEventListener("click", (e) => {
    const a = e.target.closest("a.thumb[data-i]");
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    const i = links.indexOf(a);
    if (i < 0) return;
    e.preventDefault();
    open(i);
  });

  dlg.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-act]");
    if (!b) return;
    const act = b.dataset.act;
    if (act === "close") dlg.close();
    else if (act === "prev") show(cur - 1);
    else if (act === "next") show(cur + 1);
    else if (act === "in") zoomAt(1.5);
    else if (act === "out") zoomAt(1 / 1.5);
    else if (act === "fit") reset();
  });

  dlg.addEventListener("close", () => {
    stopVideo();
    img.removeAttribute("src");
    if (history.state && history.state.viewer) history.back();
    if (items[cur]) items[cur].a.focus();
  });
  // The phone's back button closes the viewer instead of leaving the page.
  window.addEventListener("popstate", () => { if (dlg.open) dlg.close(); });

  dlg.addEventListener("keydown", (e) => {
    if (e.target === video) return; // the player's own keys (seek, volume)
    let done = true;
    if (e.key === "ArrowRight" && !single) show(cur + 1);
    else if (e.key === "ArrowLeft" && !single) show(cur - 1);
    else if ((e.key === "+" || e.key === "=") && isImage()) zoomAt(1.5);
    else if (e.key === "-" && isImage()) zoomAt(1 / 1.5);
    else if (e.key === "0" && isImage()) reset();
    else done = false;
    if (done) e.preventDefault();
  });

  // --- pointers: drag to pan, two fingers to pinch, swipe, double-tap -------
  const pts = new Map();
  let start = null, lastTap = null, lastType = "mouse";

  stage.addEventListener("pointerdown", (e) => {
    if (!isImage()) return;
    lastType = e.pointerType;
    stage.setPointerCapture(e.pointerId);
    pts.set(e.pointerId, { x: e.clientX, y: e.clientY });
    start = pts.size === 1 ? { x: e.clientX, y: e.clientY, t: Date.now() } : null;
  });

  stage.addEventListener("pointermove", (e) => {
    const p = pts.get(e.pointerId);
    if (!p) return;
    if (pts.size === 2) {
      const [a, b] = Array.from(pts.values());
      const d0 = Math.hypot(a.x - b.x, a.y - b.y), m0x = (a.x + b.x) / 2, m0y = (a.y + b.y) / 2;
      p.x = e.clientX;
      p.y = e.clientY;
      const d1 = Math.hypot(a.x - b.x, a.y - b.y), m1x = (a.x + b.x) / 2, m1y = (a.y + b.y) / 2;
      if (d0 > 0) {
        tx += m1x - m0x;
        ty += m1y - m0y;
        zoomAt(d1 / d0, m1x, m1y);
      }
    } else if (pts.size === 1) {
      const dx = e.clientX - p.x, dy = e.clientY - p.y;
      p.x = e.clientX;
      p.y = e.clientY;
      if (s > 1) {
        tx += dx;
        ty += dy;
        clamp();
        apply();
      }
    }
  });

  function up(e) {
    if (!pts.delete(e.pointerId)) return;
    if (!start || pts.size) return;
    const dx = e.clientX - start.x, dy = e.clientY - start.y, dt = Date.now() - start.t;
    start = null;
    if (e.type !== "pointerup") return;
    if (s === 1 && !single && Math.abs(dx) > 60 && Math.abs(dx) > 2 * Math.abs(dy) && dt < 800) {
      show(cur + (dx < 0 ? 1 : -1));
    } else if (Math.abs(dx) < 10 && Math.abs(dy) < 10 && e.pointerType !== "mouse") {
      const now = Date.now();
      if (lastTap && now - lastTap.t < 350 && Math.hypot(e.clientX - lastTap.x, e.clientY - lastTap.y) < 40) {
        toggleZoom(e.clientX, e.clientY);
        lastTap = null;
      } else {
        lastTap = { t: now, x: e.clientX, y: e.clientY };
      }
    }
  }
  stage.addEventListener("pointerup", up);
  stage.addEventListener("pointercancel", up);

  function toggleZoom(x, y) {
    if (s > 1) reset();
    else zoomAt(2.5, x, y);
  }
  stage.addEventListener("dblclick", (e) => {
    if (isImage() && lastType === "mouse") toggleZoom(e.clientX, e.clientY);
  });

  stage.addEventListener("wheel", (e) => {
    if (!isImage()) return;
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 0.05 : e.deltaMode === 2 ? 1 : 0.002;
    zoomAt(Math.exp(-e.deltaY * unit), e.clientX, e.clientY);
  }, { passive: false });
})();
