#!/usr/bin/env python3
"""peers.py of the shim tool folder that scripts/bench builds at run time (see "Render rows" in scripts/bench).

scripts/bench runs the peers' run-baselines.sh with PEERS_TOOLS pointing at $SL_WORK/peers-shim, a folder in which
every file is a symlink to the real peer tools except peers.py, which is a symlink to this file. This file runs the
real peers.py (SL_PEERS_REAL/peers.py) unchanged, in this process, with the same arguments, with one exception:

  `peers.py render BASE ...` where BASE is the StudyLink URL run-baselines.sh was given (SL_RENDER_DIRECT's FROM,
  the loopback adapter scripts/bench-proxy.py) runs with BASE replaced by the server's own URL (TO) and with
  requests.Session patched so that every session carries `Authorization: Bearer <key>` (read from KEYFILE).

So the StudyLink render rows are timed by the very same client code as Orthanc's (peers.py cmd_render: one
sequential keep-alive requests.Session, the same frame list from the same MANIFEST, the same Accept header, which
run-baselines.sh leaves empty for StudyLink's rows, i.e. requests' default `*/*`), with no proxy hop. Everything
else (rest-ingest through the adapter, deid-run, summarize, the Orthanc render rows) is the real peers.py as is.
Each redirected call is logged to SL_RENDER_DIRECT_LOG, which scripts/bench checks.

Environment: SL_PEERS_REAL=<real peer tools dir>  SL_RENDER_DIRECT="FROM|TO|KEYFILE"  SL_RENDER_DIRECT_LOG=<file>
"""
import os
import runpy
import sys
import time

real = os.path.join(os.environ["SL_PEERS_REAL"], "peers.py")
argv = sys.argv[1:]
direct = os.environ.get("SL_RENDER_DIRECT", "")
if direct and len(argv) >= 2 and argv[0] == "render":
    src, dst, keyfile = direct.split("|")
    if argv[1].rstrip("/") == src.rstrip("/"):
        with open(keyfile) as fh:
            key = fh.read().strip()
        if not key:
            sys.exit(f"peers shim: no API key in {keyfile}")
        import requests

        class _KeySession(requests.Session):
            def __init__(self):
                super().__init__()
                self.headers["Authorization"] = "Bearer " + key

        requests.Session = _KeySession  # cmd_render does `import requests; requests.Session()`
        argv[1] = dst
        log = os.environ.get("SL_RENDER_DIRECT_LOG")
        if log:
            with open(log, "a") as fh:
                fh.write(f"{time.strftime('%H:%M:%S')}\trender {src} -> {dst} (Bearer key)\t{' '.join(argv[2:])}\n")

sys.argv = [real] + argv
runpy.run_path(real, run_name="__main__")
