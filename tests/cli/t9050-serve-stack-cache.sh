#!/bin/bash
# kiln serve's stack cache stores exactly what the full path stores: the same pushes (repeated stacks, odd lines,
# sampleRate, gzip, two tenants, several types) into a server with the cache and one without, then every stored
# profile compared, one by one; the cache must have read most bodies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

serve_start A "$KILN" --storage "$T_TMP/a" --retention 0 || exit 0
serve_start B "$KILN" --storage "$T_TMP/b" --retention 0 --stack-cache 0 || exit 0

python3 - "$A_URL" "$B_URL" "$T_TMP" >"$T_TMP/cmp" 2>&1 <<'PY'
import gzip, http.client, json, random, sys, urllib.parse
urls, tmp = sys.argv[1:3], sys.argv[3]
rnd = random.Random(18)
names = ["main", "run", "a b", "f_[k]", "g_[j]", "123", "x;;y", "é", "work", "io"]
def stack():
    return ";".join(rnd.choice(names) for _ in range(rnd.randint(1, 6)))
pools = {s: [stack() for _ in range(40)] for s in ("svc0", "svc1", "svc2")}
odd = ["main;a 3 5", "main;b\t4", "main;c 1.5", "main;d 0", "main;e 2\r"]
reqs = []
for step in range(120):
    for svc, pool in pools.items():
        lines = ["%s %d" % (rnd.choice(pool), rnd.randint(1, 40)) for _ in range(rnd.randint(1, 25))]
        if rnd.random() < 0.1:
            lines.insert(rnd.randrange(len(lines) + 1), rnd.choice(odd))
        q = {"name": "%s.%s{pod=p%d}" % (svc, rnd.choice(["cpu", "cpu", "alloc_objects"]), step % 3),
             "from": 1700000000 + 10 * step, "until": 1700000010 + 10 * step}
        if rnd.random() < 0.3:
            q["sampleRate"] = rnd.choice([97, 100, 1000])
        body = ("\n".join(lines) + "\n").encode()
        hdr = {"X-Scope-OrgID": rnd.choice(["t1", "t2"])}
        if rnd.random() < 0.2:
            body = gzip.compress(body)
        reqs.append((urllib.parse.urlencode(q), body, hdr))
def call(url, method, path, body=None, hdr={}):
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request(method, path, body, hdr)
    r = c.getresponse()
    return r.status, r.read()
for q, body, hdr in reqs:
    st = [call(u, "POST", "/ingest?" + q, body, hdr)[0] for u in urls]
    if st[0] != st[1] or st[0] != 200:
        print("status differs or failed:", st, q)
        sys.exit(1)
def stored(url, tenant, ptype):
    q = urllib.parse.urlencode({"query": ptype + "{}", "from": 1699999000, "until": 1700002000,
                                "limit": 100000})
    st, b = call(url, "GET", "/api/v1/profiles?" + q, None, {"X-Scope-OrgID": tenant})
    out = {}
    for p in json.loads(b)["profiles"]:
        st, f = call(url, "GET", "/api/v1/profile?id=%s&format=folded" % p["id"], None, {"X-Scope-OrgID": tenant})
        key = (p["from"], p["labels"].get("service_name"), p["labels"].get("pod"))
        out[key] = (p["total"], sorted(f.decode().splitlines()))
    return out
n = 0
for tenant in ("t1", "t2"):
    for ptype in ("process_cpu:cpu:nanoseconds:cpu:nanoseconds", "memory:alloc_objects:count::"):
        a, b = stored(urls[0], tenant, ptype), stored(urls[1], tenant, ptype)
        if a != b:
            diff = [k for k in set(a) | set(b) if a.get(k) != b.get(k)][:3]
            print("differ:", tenant, ptype, len(a), len(b), [(k, a.get(k), b.get(k)) for k in diff])
            sys.exit(1)
        n += len(a)
st, m = call(urls[0], "GET", "/metrics")
cached = int([l.split()[1] for l in m.decode().splitlines() if l.startswith("kiln_ingest_cached_bodies_total ")][0])
print("%d requests, %d profiles equal, %d bodies read by the cache" % (len(reqs), n, cached))
sys.exit(0 if n >= len(reqs) and cached > len(reqs) // 3 else 1)
PY
if [ $? = 0 ]; then t_pass "stack cache on and off store the same profiles ($(tail -1 "$T_TMP/cmp"))"
else t_fail "stack cache on and off store the same profiles" "$(cat "$T_TMP/cmp")"; fi
serve_stop "$A_PID" && t_pass "the server with the cache stops cleanly" || t_fail "the server with the cache stops cleanly"
serve_stop "$B_PID"
