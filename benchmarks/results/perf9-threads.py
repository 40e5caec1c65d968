#!/usr/bin/env python3
"""Per-thread deltas of a process over a window: name, voluntary/involuntary ctx switches, CPU ticks."""
import os, sys, time, collections
def snap(pid):
    out = {}
    for t in os.listdir('/proc/%s/task' % pid):
        try:
            st = open('/proc/%s/task/%s/status' % (pid, t)).read()
            stat = open('/proc/%s/task/%s/stat' % (pid, t)).read()
        except OSError:
            continue
        f = dict(l.split(':', 1) for l in st.splitlines() if ':' in l)
        rest = stat[stat.rindex(')') + 2:].split()
        out[t] = (f['Name'].strip(), int(f['voluntary_ctxt_switches']), int(f['nonvoluntary_ctxt_switches']), int(rest[11]) + int(rest[12]))
    return out
pid, secs = sys.argv[1], float(sys.argv[2])
a = snap(pid); time.sleep(secs); b = snap(pid)
agg = collections.defaultdict(lambda: [0, 0, 0, 0])
import re
for t, v in b.items():
    base = a.get(t, (v[0], 0, 0, 0))
    name = re.sub(r'[0-9a-f]{5,}', 'X', re.sub(r'-\d+$', '-N', v[0]))
    g = agg[name]; g[0] += v[1] - base[1]; g[1] += v[2] - base[2]; g[2] += v[3] - base[3]; g[3] += 1
gone = [t for t in a if t not in b]
tot = [sum(g[i] for g in agg.values()) for i in range(3)]
print("threads %d (new %d, gone %d) total vol %d invol %d ticks %d" % (len(b), len([t for t in b if t not in a]), len(gone), *tot))
for n, g in sorted(agg.items(), key=lambda kv: -(kv[1][0] + kv[1][1])):
    if g[0] + g[1] + g[2] > 0:
        print("  %-40s x%-3d vol %7d invol %6d ticks %5d" % (n, g[3], g[0], g[1], g[2]))
