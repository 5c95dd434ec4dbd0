#!/usr/bin/env python3
"""Samples a process's resident memory: rss.py PID OUT [INTERVAL_MS]

Appends "<epoch ms>\t<VmRSS kB>\t<VmHWM kB>" to OUT every INTERVAL_MS (default 50) until the
process exits or this sampler gets SIGTERM. Phases are cut out of the file afterwards by time
(see summarize.py), so one sampler can run for a whole section."""
import signal, sys, time

pid, out = int(sys.argv[1]), sys.argv[2]
interval = (int(sys.argv[3]) if len(sys.argv) > 3 else 50) / 1000
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
with open(out, "a", buffering=1) as f:
    nxt = time.monotonic()
    while running:
        try:
            with open(f"/proc/{pid}/status") as s:
                vals = {}
                for line in s:
                    if line.startswith(("VmRSS:", "VmHWM:")):
                        k, v = line.split(":", 1)
                        vals[k] = v.split()[0]
        except (FileNotFoundError, ProcessLookupError):
            break
        f.write(f"{int(time.time() * 1000)}\t{vals.get('VmRSS', '')}\t{vals.get('VmHWM', '')}\n")
        nxt += interval
        time.sleep(max(0.0, nxt - time.monotonic()))
