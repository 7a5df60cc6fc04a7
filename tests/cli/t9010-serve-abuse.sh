#!/bin/bash
# kiln serve under bad input: malformed, truncated, oversized and gzip-bomb bodies get a 4xx with a message,
# the server keeps serving with flat memory; tokens scoped to tenant and role (401/403), tenants isolated;
# the request rate limit (429) and the series limit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

FIX=$KILN_ROOT/tests/fixtures
serve_start S "$KILN" --storage "$T_TMP/store" --retention 30d --max-body 65536 || exit 0
U=$S_URL

expect() { # DESC STATUS MESSAGE_PART CURL_ARGS...
	local desc=$1 want=$2 part=$3 c
	shift 3
	c=$(http_code "$T_TMP/b" "$@")
	if [ "$c" = "$want" ] && grep -q "\"message\":\"[^\"]*$part" "$T_TMP/b"; then t_pass "$desc"
	else t_fail "$desc" "status $c: $(head -c 300 "$T_TMP/b")"; fi
}

head -c 3000 /dev/urandom >"$T_TMP/random"
gzip -dc "$FIX/pprof/go-cpu.pb.gz" >"$T_TMP/go.pb"
head -c 700 "$T_TMP/go.pb" >"$T_TMP/trunc.pb"
head -c 400 "$FIX/pprof/go-cpu.pb.gz" >"$T_TMP/trunc.pb.gz"
head -c 100000 /dev/zero | tr '\0' 'a' >"$T_TMP/big"
# 64 MiB of zeros inflate from about 64 KiB: far past the limit once decompressed, under it on the wire.
head -c $((64 << 20)) /dev/zero | gzip -9 >"$T_TMP/bomb.gz"

expect "random bytes as pprof: 400" 400 "invalid pprof" --data-binary @"$T_TMP/random" "$U/ingest?name=a&format=pprof"
expect "truncated pprof: 400" 400 "invalid pprof" --data-binary @"$T_TMP/trunc.pb" "$U/ingest?name=a&format=pprof"
expect "truncated gzip: 400" 400 "gzip" --data-binary @"$T_TMP/trunc.pb.gz" "$U/ingest?name=a&format=pprof"
expect "oversized body: 413" 413 "larger than" --data-binary @"$T_TMP/big" "$U/ingest?name=a"
expect "gzip bomb: 413" 413 "decompressed profile is larger" --data-binary @"$T_TMP/bomb.gz" "$U/ingest?name=a&format=pprof"
expect "gzip bomb as folded: 413" 413 "decompressed" --data-binary @"$T_TMP/bomb.gz" "$U/ingest?name=a"
expect "random bytes as speedscope: 400" 400 "speedscope" --data-binary @"$T_TMP/random" "$U/ingest?name=a&format=speedscope"
expect "multipart without a boundary: 400" 400 "boundary" -H 'Content-Type: multipart/form-data' \
	--data-binary @"$T_TMP/random" "$U/ingest?name=a"
expect "multipart cut short: 400" 400 "multipart" -H 'Content-Type: multipart/form-data; boundary=QQ' \
	--data-binary $'--QQ\r\nContent-Disposition: form-data; name="profile"\r\n\r\nabc' "$U/ingest?name=a"
expect "a bad time value: 400" 400 "time" --data-binary 'a 1' "$U/ingest?name=a&from=now-1zz99999999999999999999"
expect "unsupported format=jfr: 400" 400 "not supported" --data-binary 'x' "$U/ingest?name=a&format=jfr"
expect "a label value over 2048 bytes: 400" 400 "longer than 2048" --data-binary 'a 1' \
	"$U/ingest?name=a%7Bk=$(head -c 3000 /dev/zero | tr '\0' v)%7D"
expect "an invalid tenant id: 400" 400 "tenant" -H 'X-Scope-OrgID: a b/c' --data-binary 'a 1' "$U/ingest?name=a"
expect "a profile older than the retention: 400" 400 "retention" --data-binary 'a 1' "$U/ingest?name=a&from=now-400d" \
	-H 'X-Scope-OrgID: probe'

# Memory stays flat under a stream of bad requests (after a warm-up round), and the server still answers.
round() {
	for _ in $(seq 1 15); do
		curl -s -o /dev/null --data-binary @"$T_TMP/random" "$U/ingest?name=a&format=pprof"
		curl -s -o /dev/null --data-binary @"$T_TMP/bomb.gz" "$U/ingest?name=a&format=pprof"
		curl -s -o /dev/null --data-binary @"$T_TMP/big" "$U/ingest?name=a"
		curl -s -o /dev/null --data-binary @"$T_TMP/trunc.pb" "$U/ingest?name=a&format=pprof"
	done
}
round
before=$(rss_kb "$S_PID")
round
round
after=$(rss_kb "$S_PID")
# Each bomb inflates up to the 64 KiB limit; 120 more bad requests may not keep more than 8 MiB.
if [ $((after - before)) -lt 8192 ]; then t_pass "RSS flat under 180 bad requests (${before} KiB -> ${after} KiB)"
else t_fail "RSS flat under bad requests" "${before} KiB -> ${after} KiB"; fi
c=$(printf 'ok;still 1\n' | http_code "$T_TMP/b" --data-binary @- "$U/ingest?name=alive")
[ "$c" = 200 ] && t_pass "the server still stores after the abuse" || t_fail "the server still stores" "$c"
serve_stop "$S_PID"

# ---- authentication: tokens scoped to tenant and role ----
cat >"$T_TMP/tokens" <<'TOK'
# token      tenant  roles
pushtok-a    acme    push
readtok-a    acme    read
alltok-b     beta    push,read
TOK
serve_start A "$KILN" --storage "$T_TMP/store-auth" --retention 0 --auth-file "$T_TMP/tokens" || exit 0
U=$A_URL
Q='query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="svc"}'
expect "no token: 401" 401 "authentication required" --data-binary 'a 1' "$U/ingest?name=svc"
expect "an unknown token: 401" 401 "unknown token" -H 'Authorization: Bearer nope' --data-binary 'a 1' "$U/ingest?name=svc"
expect "a read token pushing: 403" 403 "may not push" -H 'Authorization: Bearer readtok-a' --data-binary 'a 1' \
	"$U/ingest?name=svc"
expect "X-Scope-OrgID of another tenant: 403" 403 "not valid for tenant" -H 'Authorization: Bearer pushtok-a' \
	-H 'X-Scope-OrgID: beta' --data-binary 'a 1' "$U/ingest?name=svc"
c=$(http_code "$T_TMP/b" -H 'Authorization: Bearer pushtok-a' --data-binary 'main;acme 5' "$U/ingest?name=svc")
c2=$(http_code "$T_TMP/b" -u "user:alltok-b" --data-binary 'main;beta 7' "$U/ingest?name=svc")
[ "$c$c2" = 200200 ] && t_pass "push with a Bearer token and with Basic (token as password)" || t_fail "push with tokens" "$c $c2"
expect "a push token reading: 403" 403 "may not read" -H 'Authorization: Bearer pushtok-a' --get "$U/api/v1/export" \
	--data-urlencode "$Q"
curl -sS -H 'Authorization: Bearer readtok-a' --get "$U/api/v1/export" --data-urlencode "$Q" >"$T_TMP/acme"
curl -sS -H 'Authorization: Bearer alltok-b' --get "$U/api/v1/export" --data-urlencode "$Q" >"$T_TMP/beta"
[ "$(cat "$T_TMP/acme")" = "main;acme 50000000" ] && [ "$(cat "$T_TMP/beta")" = "main;beta 70000000" ] &&
	t_pass "each tenant reads only its own data" || t_fail "tenant isolation" "acme: $(cat "$T_TMP/acme") beta: $(cat "$T_TMP/beta")"
c=$(http_code "$T_TMP/b" "$U/ready")
[ "$c" = 200 ] && t_pass "/ready needs no token" || t_fail "/ready needs no token" "$c"
serve_stop "$A_PID"
t_fails "an auth file with a bad line: exit 2" 2 "$KILN" serve --listen 127.0.0.1:0 --auth-file /dev/null

# ---- rate and series limits ----
serve_start R "$KILN" --storage "$T_TMP/store-rate" --retention 0 --rate-limit 5 --max-series 2 || exit 0
U=$R_URL
codes=""
for i in $(seq 1 20); do codes="$codes $(http_code /dev/null --data-binary 'a 1' "$U/ingest?name=s1")"; done
n429=$(echo "$codes" | tr ' ' '\n' | grep -c 429)
n200=$(echo "$codes" | tr ' ' '\n' | grep -c 200)
# A bucket of 10 (twice the rate) plus what refills meanwhile: at least 10 pass, and a burst of 20 is cut.
if [ "$n200" -ge 10 ] && [ "$n429" -ge 1 ]; then t_pass "rate limit: a burst of 20 at 5/s gets 429s ($n200 passed)"
else t_fail "rate limit 429" "$codes"; fi
expect "429 carries resource_exhausted" 429 "rate limit" --data-binary 'a 1' "$U/ingest?name=s1"
sleep 3
curl -s -o /dev/null --data-binary 'a 1' "$U/ingest?name=s2"
expect "a third series over --max-series 2: 429" 429 "limit of 2 series" --data-binary 'a 1' "$U/ingest?name=s3"
c=$(http_code /dev/null -H 'X-Scope-OrgID: other' --data-binary 'a 1' "$U/ingest?name=s3")
[ "$c" = 200 ] && t_pass "the series limit is per tenant" || t_fail "the series limit is per tenant" "$c"
serve_stop "$R_PID"
