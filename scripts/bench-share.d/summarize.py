#!/usr/bin/env python3
"""The table at the end of scripts/bench-share: summarize.py RESULTS_DIR

Reads what the sections wrote (send.tsv, rss-send.tsv, send-window.tsv, zip.tsv, page.tsv, lighthouse.tsv) and
prints each goal with its figure and a verdict. Percentiles are nearest-rank (p95 of 20 values = the 19th)."""
import csv, math, os, statistics, sys

d = sys.argv[1]


def rows(name):
    p = os.path.join(d, name)
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def pct(vals, q):
    v = sorted(vals)
    return v[max(0, math.ceil(q / 100 * len(v)) - 1)] if v else None


def f(v, nd=0, unit=""):
    return "n/a" if v is None else f"{v:,.{nd}f}{unit}"


def verdict(ok):
    return "met" if ok else "NOT met"


lines = []
out = lines.append

import glob, re

variants = sorted(glob.glob(os.path.join(d, "send-*.tsv")), key=lambda p: os.path.getmtime(p))
for n, path in enumerate(variants):
    v = re.match(r"send-(\d+)-(\d+)\.tsv$", os.path.basename(path))
    if not v:
        continue
    ns, nc = v.groups()
    allrows = rows(os.path.basename(path))
    send = [r for r in allrows if not r["i"].startswith("w")]
    warm = [r for r in allrows if r["i"].startswith("w")]
    if not send:
        continue
    mail = [float(r["mail_ms"]) for r in send if r["mail_ms"]]
    ready = [float(r["ready_ms"]) for r in send if r["ready_ms"]]
    errors = [r for r in send if r["error"]]
    loads = sorted(float(r["load1"]) for r in send)
    rustc = sum(1 for r in send if r["rustc"] not in ("", "0"))
    pw = {r["password"] for r in send}
    head = "1." if n == 0 else "  "
    out(f"{head} Send to patient -> email listed by MailDev: study of {ns} images + {nc} cine loops, {len(send)} sends, password_required={'/'.join(sorted(pw))}")
    out(f"   email listed by MailDev   p50 {f(pct(mail, 50))} ms   p95 {f(pct(mail, 95))} ms   max {f(max(mail) if mail else None)} ms"
        f"   goal p95 <= 2,000 ms: {verdict(mail and len(mail) == len(send) and pct(mail, 95) <= 2000)}")
    out(f"   share ready (POST ?wait)  p50 {f(pct(ready, 50))} ms   p95 {f(pct(ready, 95))} ms   max {f(max(ready) if ready else None)} ms")
    if mail and ready and len(mail) == len(ready):
        gap = [m - r for m, r in zip(mail, ready)]
        out(f"   ready -> email listed     p50 {f(pct(gap, 50))} ms   p95 {f(pct(gap, 95))} ms   max {f(max(gap))} ms")
    checked = [float(r["checked_ms"]) for r in send if r.get("checked_ms")]
    if checked:
        out(f"   every image seen (OCR check done)  p50 {f(pct(checked, 50))} ms   p95 {f(pct(checked, 95))} ms   max {f(max(checked))} ms  (read after the email, at nice 5)")
    videos = [float(r["videos_ms"]) for r in send if r.get("videos_ms")]
    if videos and nc != "0":
        out(f"   every loop's MP4 stored   p50 {f(pct(videos, 50))} ms   p95 {f(pct(videos, 95))} ms   max {f(max(videos))} ms  (encoded after the email, at nice 10)")
    cpu = [float(r["cpu_ms"]) for r in send if r.get("cpu_ms")]
    if cpu and mail:
        out(f"   server CPU (user+sys) until the email  p50 {f(pct(cpu, 50))} ms = {statistics.median(cpu) / statistics.median(mail):.2f} cores busy over the send's median time")
    cpu_all = [float(r["cpu_all_ms"]) for r in send if r.get("cpu_all_ms")]
    if cpu_all:
        out(f"   server CPU (user+sys) per send, checks and videos included  p50 {f(pct(cpu_all, 50))} ms")
    ids = {r["share"] for r in send}
    prep = [int(l.split("\t")[1]) for l in open(os.path.join(d, f"prepare-ms-{ns}-{nc}.tsv")) if l.split("\t")[0] in ids] \
        if os.path.exists(os.path.join(d, f"prepare-ms-{ns}-{nc}.tsv")) else []
    if prep:
        out(f"   server's own preparation time (log 'share ready ms=')  p50 {f(pct(prep, 50))} ms   p95 {f(pct(prep, 95))} ms")
    sb = os.path.join(d, f"share-bytes-{ns}-{nc}.txt")
    if os.path.exists(sb):
        b = [int(x) for x in open(sb).read().split()]
        if len(b) == 2:
            out(f"   one share's stored files: {b[0] / 1e6:,.0f} MB, for {b[1] / 1e6:,.0f} MB of originals")
    if warm:
        out("   warm-up send(s), not counted: " + ", ".join(f"ready {r['ready_ms'] or '-'} / email {r['mail_ms'] or '-'} ms" for r in warm))
    out(f"   1-min load before each send: min {loads[0]}, median {statistics.median(loads):.2f}, max {loads[-1]}; "
        f"sends started while rustc ran: {rustc} of {len(send)}")
    rss = rows(f"rss-send-{ns}-{nc}.tsv")
    if rss:
        kb = [int(r["rss_kb"]) for r in rss if r["rss_kb"]]
        out(f"   server VmRSS during the sends: start {f(kb[0] / 1024, 1)} MB, peak {f(max(kb) / 1024, 1)} MB (50 ms samples)")
    if errors:
        out(f"   ERRORS: {len(errors)} sends failed, first: {errors[0]['error']}")
    out("")

zips = rows("zip.tsv")
if zips:
    out("2. Download all (/p/{token}/all.zip) of the big share")
    for r in zips:
        size = int(r["bytes"])
        base, peak, hwm = int(r["baseline_kb"]) / 1024, int(r["peak_kb"]) / 1024, int(r["hwm_kb"]) / 1024
        out(f"   {r['kind']:14s} {size / 1e9:.2f} GB in {float(r['seconds']):.1f} s = {size / 1e6 / float(r['seconds']):,.0f} MB/s, HTTP {r['http']}; "
            f"VmRSS before {base:.1f} MB, peak {peak:.1f} MB (VmHWM since reset {hwm:.1f} MB): the download adds {max(peak, hwm) - base:.1f} MB"
            f"{'; unzip -t ' + r['unzip'] if r['unzip'] else ''}   goal peak <= 150 MB: {verdict(max(peak, hwm) <= 150)}")
    z = rows("zip-share.tsv")
    if z:
        r = z[0]
        out(f"   share: {r['instances']} instances ({r['source_mb']} MB of originals: {r['source']}), prepared in {r['prepare_s']} s, "
            f"password_required={r['password']}; VmRSS peak while preparing {int(r.get('prepare_peak_kb') or 0) / 1024:.0f} MB")
    out("")

page = [r for r in rows("page.tsv") if not r["run"].startswith("w")]
if page:
    def col(c):
        return [float(r[c]) for r in page if r[c]]
    img, lcp, fcp, ttfb = col("img"), col("lcp"), col("fcp"), col("ttfb")
    srcs = sorted({r["img_src"] for r in page})
    lcp_el = sorted({r["lcp_el"] for r in page})
    r0 = page[0]
    total = int(r0["html"]) + int(r0["css"]) + int(r0["js"])
    wire = int(r0["html_wire"]) + int(r0["css_wire"]) + int(r0["js_wire"])
    out(f"3. Landing page /p/{{token}} in Chromium, loopback ({len(page)} cold contexts)")
    out(f"   first gallery image painted  median {f(statistics.median(img), 1)} ms   p95 {f(pct(img, 95), 1)} ms   max {f(max(img), 1)} ms"
        f"   ({'/'.join(srcs)})   goal <= 500 ms: {verdict(img and len(img) == len(page) and pct(img, 95) <= 500)}")
    out(f"   LCP                          median {f(statistics.median(lcp), 1)} ms   p95 {f(pct(lcp, 95), 1)} ms   (element: {', '.join(lcp_el)})")
    out(f"   FCP median {f(statistics.median(fcp), 1)} ms; TTFB median {f(statistics.median(ttfb), 1)} ms")
    out(f"   HTML {int(r0['html']):,} + CSS {int(r0['css']):,} + JS {int(r0['js']):,} = {total:,} B uncompressed "
        f"({total / 1024:.1f} KiB; {wire:,} B on the wire with headers, encoding {r0['encoding']})   goal <= 100 KB: {verdict(total <= 100_000)}")
    out(f"   images on first load: {r0['imgs']} ({int(r0['img_bytes']):,} B)")
    out("")

lh = rows("lighthouse.tsv")
if lh:
    out("   Lighthouse 12.2.3")
    for preset in sorted({r["preset"] for r in lh}):
        rs = [r for r in lh if r["preset"] == preset and r["performance"]]
        if not rs:
            continue
        perf = [float(r["performance"]) for r in rs]
        a11y = [float(r["accessibility"]) for r in rs]
        med = lambda c: statistics.median(float(r[c]) for r in rs)
        out(f"   {preset:8s} ({len(rs)} runs) performance median {statistics.median(perf):.0f} (min {min(perf):.0f}), "
            f"accessibility median {statistics.median(a11y):.0f} (min {min(a11y):.0f}); FCP {med('fcp_ms'):.0f} ms, LCP {med('lcp_ms'):.0f} ms, "
            f"TBT {med('tbt_ms'):.0f} ms, CLS {med('cls'):.3f}   goal both >= 95: {verdict(min(perf) >= 95 and min(a11y) >= 95)}")
        fails = sorted({a for r in rs for a in r["failing"].split(",") if a})
        if fails:
            out(f"            failing audits: {', '.join(fails)}")

print("\n".join(lines))
with open(os.path.join(d, "summary.txt"), "w") as fh:
    fh.write("\n".join(lines) + "\n")
