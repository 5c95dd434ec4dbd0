// Plays an MP4 in Debian's Chromium the way a patient's browser would (HTTP with
// Range requests, <video muted autoplay loop>) and reports what the media
// element saw as one JSON line on stdout. Usage:
//   node check.mjs <file.mp4> <screenshot.png> [x,y ...]
// Each x,y is a video pixel whose decoded RGB (via canvas) is reported, so the
// caller can check colour conversion end to end.
import http from "node:http";
import fs from "node:fs";
import { chromium } from "playwright-core";

const [mp4Path, shotPath, ...probeArgs] = process.argv.slice(2);
if (!mp4Path || !shotPath) {
  console.error("usage: node check.mjs <file.mp4> <screenshot.png> [x,y ...]");
  process.exit(2);
}
const probes = probeArgs.map((p) => p.split(",").map(Number));
const video = fs.readFileSync(mp4Path);
const page = `<!doctype html><html><body style="margin:0;background:#000">
<video id="v" muted autoplay loop playsinline src="/cine.mp4"></video></body></html>`;

// Browsers fetch media with Range requests; answering them like a real static
// server keeps the check honest about streaming (faststart) behaviour.
const server = http.createServer((req, res) => {
  if (req.url === "/") {
    res.writeHead(200, { "content-type": "text/html" });
    return res.end(page);
  }
  if (req.url !== "/cine.mp4") {
    res.writeHead(404);
    return res.end();
  }
  const m = /bytes=(\d*)-(\d*)/.exec(req.headers.range || "");
  if (!m) {
    res.writeHead(200, { "content-type": "video/mp4", "accept-ranges": "bytes", "content-length": video.length });
    return res.end(video);
  }
  const start = m[1] ? Number(m[1]) : 0;
  const end = m[2] ? Math.min(Number(m[2]), video.length - 1) : video.length - 1;
  res.writeHead(206, {
    "content-type": "video/mp4",
    "accept-ranges": "bytes",
    "content-range": `bytes ${start}-${end}/${video.length}`,
    "content-length": end - start + 1,
  });
  res.end(video.subarray(start, end + 1));
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
let result;
try {
  const tab = await browser.newPage({ viewport: { width: 1280, height: 1024 } });
  await tab.goto(url);
  result = await tab.evaluate(async (probes) => {
    const v = document.getElementById("v");
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const deadline = Date.now() + 20000;
    while (v.readyState < 2 && !v.error && Date.now() < deadline) await sleep(50);
    const first = v.currentTime;
    // Playback must move on by itself; a stalled decoder keeps currentTime still.
    while (v.currentTime <= first + 0.05 && !v.error && Date.now() < deadline) await sleep(50);
    // Play to the end and around the loop: a picture that fails to decode
    // late in the stream shows up as an error or a stall here.
    let last = v.currentTime, maxTime = last, looped = false;
    const loopDeadline = Date.now() + (v.duration || 0) * 1000 + 20000;
    while (!looped && !v.error && Date.now() < loopDeadline) {
      await sleep(20);
      looped = v.currentTime < last;
      last = v.currentTime;
      maxTime = Math.max(maxTime, last);
    }
    // Right at the loop point Chromium may briefly drop to HAVE_METADATA while it
    // seeks back to the start (seen on a loaded machine): let it settle.
    const settle = Date.now() + 5000;
    while (v.readyState < 2 && !v.error && Date.now() < settle) await sleep(20);
    const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : {};
    const out = {
      readyState: v.readyState,
      error: v.error ? `${v.error.code}: ${v.error.message}` : null,
      videoWidth: v.videoWidth,
      videoHeight: v.videoHeight,
      duration: v.duration,
      startTime: first,
      currentTime: v.currentTime,
      advanced: maxTime > first,
      looped,
      maxTime,
      decodedFrames: q.totalVideoFrames ?? null,
      droppedFrames: q.droppedVideoFrames ?? null,
      canPlayBaseline: v.canPlayType('video/mp4; codecs="avc1.42E01E"'),
      probes: [],
    };
    if (v.readyState >= 2 && probes.length) {
      // Pause on the first frame so every probe reads the same picture.
      v.pause();
      v.currentTime = 0;
      await new Promise((r) => v.addEventListener("seeked", r, { once: true }));
      const c = document.createElement("canvas");
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      const ctx = c.getContext("2d");
      ctx.drawImage(v, 0, 0);
      for (const [x, y] of probes) out.probes.push([...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)]);
      v.play();
    }
    return out;
  }, probes);
  // Let it play on a little so the screenshot shows a decoded moving frame.
  await tab.waitForTimeout(300);
  await tab.locator("#v").screenshot({ path: shotPath });
} finally {
  await browser.close();
  server.close();
}
console.log(JSON.stringify(result));
