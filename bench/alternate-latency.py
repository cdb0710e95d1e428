#!/usr/bin/env python3
"""alternate-latency.py PATH N PORT... : times N GETs of PATH on each query server on localhost,
one call to each port in turn, so that servers measured together share the machine's load alike.
Prints the median, p90 and max per port. Used for the maintained-counts figures in
docs/benchmarks.md ("Scale")."""
import statistics
import sys
import time
import urllib.request

path, n, ports = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times = {p: [] for p in ports}
for _ in range(n):
    for p in ports:
        start = time.perf_counter()
        urllib.request.urlopen(f"http://localhost:{p}{path}").read()
        times[p].append((time.perf_counter() - start) * 1000)
for p in ports:
    t = sorted(times[p])
    print(f"port {p} {path}: median {statistics.median(t):.1f} ms, p90 {t[int(len(t) * 0.9)]:.1f} ms, "
          f"max {t[-1]:.1f} ms ({n} calls)")
