"""Helpers for t9300: a binary push.v1.PushRequest, flame graph decoding (pyroscope.md 7.3) and `go tool pprof
-raw` stacks, so the test compares what kiln serve answers with independent readings of the same data.

  pyro.py push-proto PPROF NAME SERVICE > body      PushRequest{series{labels, samples{raw_profile}}}, binary
  pyro.py flame JSON [connect|render]              prints "stack value" lines decoded from the levels; exits 1
                                                    unless the oracles of 12 hold (sum of self == total, ...)
  pyro.py raw PPROF_RAW_TEXT [COLUMN]               "stack value" lines from go tool pprof -raw output
"""
import collections, json, sys


def varint(x):
    out = b""
    while True:
        b = x & 0x7F
        x >>= 7
        if x:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def ld(field, data):
    return varint(field << 3 | 2) + varint(len(data)) + data


def push_proto(pprof, name, service):
    raw = open(pprof, "rb").read()
    labels = ld(1, ld(1, b"__name__") + ld(2, name.encode())) + ld(1, ld(1, b"service_name") + ld(2, service.encode()))
    sample = ld(2, ld(1, raw) + ld(2, b"6d2e8f1c-3a10-4c1b-9a57-0b6f3c1e2f4a"))
    sys.stdout.buffer.write(ld(1, labels + sample))


def flame(path, kind):
    d = json.load(open(path))
    if kind == "connect":
        fg = d["flamegraph"]
        names = fg["names"]
        levels = [[int(v) for v in l.get("values", [])] for l in fg["levels"]]
        total, max_self = int(fg.get("total", "0")), int(fg.get("maxSelf", "0"))
    else:
        fg = d["flamebearer"]
        names, levels, total, max_self = fg["names"], fg["levels"], fg["numTicks"], fg["maxSelf"]
    assert names[0] == "total" and len(set(names)) == len(names), "names"
    assert levels[0] == [0, total, 0, 0], "level 0 is [0, total, 0, 0]"
    decoded = []  # per level: (x, total, self, name, parent index)
    for depth, level in enumerate(levels):
        assert len(level) % 4 == 0
        row, c = [], 0
        for k in range(0, len(level), 4):
            x = c + level[k]
            c = x + level[k + 1]
            parent = None
            if depth:
                inside = [i for i, p in enumerate(decoded[depth - 1]) if p[0] <= x and x + level[k + 1] <= p[0] + p[1]]
                assert len(inside) == 1, "every node lies inside one parent"
                parent = inside[0]
            if row:
                assert x > row[-1][0], "x ascends"
            row.append((x, level[k + 1], level[k + 2], names[level[k + 3]], parent))
        decoded.append(row)
    out, sum_self, biggest = collections.Counter(), 0, 0
    for depth, row in enumerate(decoded):
        for i, (x, t, s, name, parent) in enumerate(row):
            kids = sum(n[1] for n in decoded[depth + 1] if n[4] == i) if depth + 1 < len(decoded) else 0
            assert s + kids == t, "self + children == total"
            sum_self += s
            biggest = max(biggest, s)
            if s and depth:
                path, d2, j = [], depth, i
                while d2:
                    path.append(decoded[d2][j][3])
                    j = decoded[d2][j][4]
                    d2 -= 1
                out[";".join(reversed(path))] += s
    assert sum_self == total, "sum of self %d == total %d" % (sum_self, total)
    assert biggest == max_self, "maxSelf"
    for k in sorted(out):
        print(k, out[k])


def raw(path, col):
    # go tool pprof -raw: "Samples:", a header line, then "  v1 v2: loc loc ..." (locations continue on indented
    # lines); "Locations": "id: addr M=n function file:line" and the inlined frames on lines after it.
    lines = open(path).read().split("\n")
    i = lines.index("Samples:") + 2
    samples, cur = [], None
    while not lines[i].startswith("Locations"):
        l = lines[i]
        if ":" in l:
            vals, ids = l.split(":", 1)
            cur = [int(vals.split()[col]), ids.split()]
            samples.append(cur)
        elif l.strip() and cur:
            cur[1] += l.split()
        i += 1
    locs, last = {}, None
    for l in lines[i + 1:]:
        if l.startswith("Mappings"):
            break
        head = l.split(":")[0].strip()
        if l.strip() and head.isdigit():
            parts = l.split(":", 1)[1].split()
            last = head
            locs[last] = [parts[2] if len(parts) > 2 else "?"]
        elif l.strip() and last:
            locs[last].append(l.split()[0])
    out = collections.Counter()
    for v, ids in samples:
        frames = [f for lid in ids for f in locs.get(lid, ["?"])]
        out[";".join(reversed(frames))] += v
    for k in sorted(out):
        if out[k]:
            print(k, out[k])


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "push-proto":
        push_proto(*sys.argv[2:5])
    elif cmd == "flame":
        try:
            flame(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "connect")
        except AssertionError as e:
            print("flame graph oracle failed:", e, file=sys.stderr)
            sys.exit(1)
    elif cmd == "raw":
        raw(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
