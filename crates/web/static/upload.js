// Upload page: sends each chosen file (DICOM or ZIP) as its own POST /upload,
// two at a time, with per-file and overall progress, and lists what the server
// did with every file. No framework; all text comes from data-msg-* attributes
// rendered by the server in the user's language.
"use strict";

(function () {
  const root = document.getElementById("upload");
  if (!root) return;
  const msg = (k) => root.dataset["msg" + k.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase())] || k;
  const maxBytes = Number(root.dataset.maxBytes || 0);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const PARALLEL = 2;

  const els = {
    drop: document.getElementById("dropzone"),
    files: document.getElementById("pick-files"),
    folder: document.getElementById("pick-folder"),
    progress: document.getElementById("progress"),
    overall: document.getElementById("overall"),
    overallLabel: document.getElementById("overall-label"),
    overallCount: document.getElementById("overall-count"),
    summary: document.getElementById("summary"),
    table: document.getElementById("results"),
    body: document.querySelector("#results tbody"),
  };

  const queue = [];
  let active = 0;
  let totalBytes = 0;
  let doneBytes = 0;
  let filesTotal = 0;
  let filesDone = 0;
  let stopped = false;
  const counts = { stored: 0, duplicate: 0, refused: 0, error: 0 };
  const inFlight = new Map(); // job -> bytes sent so far

  // Operating-system clutter and CD indexes are not images.
  function wanted(path) {
    const parts = path.split("/").filter(Boolean);
    const last = parts[parts.length - 1] || "";
    if (parts.some((p) => p.startsWith(".") || p === "__MACOSX")) return false;
    return last.toUpperCase() !== "DICOMDIR";
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function addFiles(list) {
    let added = 0;
    for (const item of list) {
      const file = item.file || item;
      const path = item.path || file.webkitRelativePath || file.name;
      if (!wanted(path)) continue;
      const row = el("tr");
      const name = el("td", "name", path);
      const status = el("td", "status");
      const bar = el("progress");
      bar.max = 1;
      bar.value = 0;
      const label = el("span", "muted", msg("waiting"));
      status.append(bar, " ", label);
      row.append(name, status);
      els.body.append(row);
      const job = { file, path, row, status, bar, label };
      filesTotal += 1;
      added += 1;
      if (maxBytes && file.size > maxBytes) {
        finish(job, [{ name: path, status: "refused", reason: msg("too-large") }]);
        continue;
      }
      if (file.size === 0) {
        finish(job, [{ name: path, status: "refused", reason: msg("empty") }]);
        continue;
      }
      totalBytes += file.size;
      queue.push(job);
    }
    if (added) {
      els.table.hidden = false;
      els.progress.hidden = false;
      stopped = false;
      pump();
      render();
    }
  }

  function pump() {
    while (!stopped && active < PARALLEL && queue.length) send(queue.shift());
  }

  function send(job) {
    active += 1;
    inFlight.set(job, 0);
    job.label.textContent = msg("sending");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/upload");
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-File-Name", encodeURIComponent(job.path));
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      job.bar.value = e.total ? e.loaded / e.total : 1;
      inFlight.set(job, e.loaded);
      if (e.loaded >= e.total) job.label.textContent = msg("processing");
      render();
    };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
      if (xhr.status === 200 && data && Array.isArray(data.results)) {
        finish(job, data.results);
      } else if (xhr.status === 413) {
        finish(job, [{ name: job.path, status: "refused", reason: msg("too-large") }]);
      } else if (xhr.status === 401 || xhr.status === 403) {
        // Signed out (or the session changed): nothing else will go through.
        stopped = true;
        finish(job, [{ name: job.path, status: "error", reason: msg("signed-out") }]);
        while (queue.length) finish(queue.shift(), [{ name: "", status: "error", reason: msg("signed-out") }]);
      } else {
        finish(job, [{ name: job.path, status: xhr.status >= 500 ? "error" : "refused", reason: (data && data.error) || msg("network") }]);
      }
    };
    xhr.onerror = () => finish(job, [{ name: job.path, status: "error", reason: msg("network") }]);
    xhr.send(job.file);
  }

  function finish(job, results) {
    if (inFlight.has(job)) {
      inFlight.delete(job);
      active -= 1;
      doneBytes += job.file.size;
    }
    filesDone += 1;
    job.bar.remove();
    const single = results.length === 1 && (results[0].name === job.path || !results[0].name);
    if (single) {
      showStatus(job.status, results[0]);
    } else {
      // A ZIP: summarise on the file's row, one row per entry below it.
      const tally = { stored: 0, duplicate: 0, refused: 0, error: 0 };
      results.forEach((r) => { tally[r.status] = (tally[r.status] || 0) + 1; });
      job.status.textContent = "";
      job.status.append(tallyText(tally));
      let after = job.row;
      for (const r of results) {
        const row = el("tr", "sub");
        const cell = el("td", "status");
        showStatus(cell, r);
        row.append(el("td", "name", r.name), cell);
        after.after(row);
        after = row;
      }
    }
    results.forEach((r) => { counts[r.status] = (counts[r.status] || 0) + 1; });
    render();
    pump();
  }

  function showStatus(cell, r) {
    cell.textContent = "";
    const badge = el("span", "badge " + r.status, msg(r.status));
    cell.append(badge);
    if (r.reason) {
      const why = el("span", "reason", " " + r.reason);
      if (r.detail) why.title = r.detail;
      cell.append(why);
    }
  }

  function tallyText(t) {
    return ["stored", "duplicate", "refused", "error"]
      .filter((k) => t[k])
      .map((k) => msg(k) + ": " + t[k])
      .join(" · ");
  }

  function render() {
    let sent = doneBytes;
    inFlight.forEach((b) => { sent += b; });
    els.overall.value = totalBytes ? Math.min(sent / totalBytes, 1) : (filesDone === filesTotal ? 1 : 0);
    const busy = filesDone < filesTotal;
    els.overallLabel.textContent = busy ? msg("sending") : msg("done");
    els.overallCount.textContent = filesDone + " / " + filesTotal;
    els.summary.textContent = tallyText(counts);
  }

  window.addEventListener("beforeunload", (e) => {
    if (filesDone < filesTotal && !stopped) {
      e.preventDefault();
      e.returnValue = msg("leave");
    }
  });

  els.files.addEventListener("change", () => { addFiles(Array.from(els.files.files)); els.files.value = ""; });
  els.folder.addEventListener("change", () => { addFiles(Array.from(els.folder.files)); els.folder.value = ""; });

  // Drag and drop, including whole folders (walked with the entries API).
  ["dragenter", "dragover"].forEach((t) => els.drop.addEventListener(t, (e) => {
    e.preventDefault();
    els.drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((t) => els.drop.addEventListener(t, () => els.drop.classList.remove("over")));
  els.drop.addEventListener("drop", async (e) => {
    e.preventDefault();
    const entries = Array.from(e.dataTransfer.items || [])
      .map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null))
      .filter(Boolean);
    if (!entries.length) { addFiles(Array.from(e.dataTransfer.files)); return; }
    const found = [];
    for (const entry of entries) await walk(entry, "", found);
    addFiles(found);
  });
  els.drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); els.files.click(); }
  });

  function walk(entry, prefix, out) {
    return new Promise((resolve) => {
      if (entry.isFile) {
        entry.file((file) => { out.push({ file, path: prefix + file.name }); resolve(); }, () => resolve());
      } else if (entry.isDirectory) {
        const reader = entry.createReader();
        const children = [];
        const more = () => reader.readEntries(async (batch) => {
          if (!batch.length) {
            for (const c of children) await walk(c, prefix + entry.name + "/", out);
            resolve();
          } else {
            children.push(...batch);
            more();
          }
        }, () => resolve());
        more();
      } else {
        resolve();
      }
    });
  }
})();
