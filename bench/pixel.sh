#!/usr/bin/env bash
# Pixel load: leakwatch's GET /p/{token} (verify, classify, queue, group commit, answer after
# the commit) against nginx's empty_gif (a static GIF from memory), with wrk on loopback.
#
# For each backend (SQLite, then PostgreSQL in a fresh database) it builds the release
# binary, starts `leakwatch serve`, registers a tracked message through the CLI and the API
# to get a real pixel URL, then runs `wrk -t1 -c64 --latency` alternately against leakwatch
# and nginx for a fixed number of rounds, prints each round's throughput and p99, the ratio,
# and checks that every fetch wrk saw answered was counted (hits_total of the incident API).
#
#   bench/pixel.sh                      # both backends, 500 messages, 3 rounds of 10 s each
#   MESSAGES=1 bench/pixel.sh           # one token: a flood
#   MESSAGES=10000 BACKENDS=sqlite ROUNDS=2 DURATION=5s bench/pixel.sh
#   BACKENDS=postgres-async bench/pixel.sh   # PostgreSQL, pixel.synchronous_commit = false
#   LEAKWATCH=/path/to/leakwatch bench/pixel.sh   # a binary built elsewhere (an older commit)
#   PERF_DIR=/tmp/profiles bench/pixel.sh     # perf record -g of leakwatch in round 1
#
# PERF_DIR=D records the server with `perf record -g` for the whole of the first measured
# leakwatch round and writes D/<backend>-<messages>.txt, the report by symbol (self time),
# beside the perf.data file. The recording costs the server a few percent in that round.
#
# MESSAGES=N (default 500) registers N tracked messages and has wrk walk their pixel URLs
# in random order with a mix of user agents (bench/pixel-spread.lua: mail clients, Gmail's
# image proxy, Apple's privacy prefetch, security scanners). nginx gets the same script and
# the same paths (empty_gif answers any path), so both sides pay the same client cost.
#
# Needs: cargo, curl, wrk, nginx, and psql with PostgreSQL on 127.0.0.1:5432 for the
# postgres backend (wrk, nginx and psql are installed with apt-get when missing).
# Bounded: fixed rounds and durations; everything it starts is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BACKENDS="${BACKENDS:-sqlite postgres}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
CONNECTIONS=64
MESSAGES="${MESSAGES:-500}"
LW_PORT="${LW_PORT:-18180}"
NGINX_PORT="${NGINX_PORT:-18181}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
# A real mail client's user agent, so the full classification runs on every request.
UA="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0"

WORK="$(mktemp -d /tmp/leakwatch-bench.XXXXXX)"
LW_PID=""
NGINX_PID=""
PG_DB=""

log() { printf '%s\n' "$*" >&2; }

stop_pid() {
    local pid="$1"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}

cleanup() {
    stop_pid "$LW_PID"
    stop_pid "$NGINX_PID"
    if [[ -n "$PG_DB" ]]; then
        psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need() {
    # need COMMAND PACKAGE: installs PACKAGE with apt-get when COMMAND is missing.
    if ! command -v "$1" >/dev/null 2>&1; then
        log "installing $2"
        local sudo=""
        [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null
    fi
}

need wrk wrk
need nginx nginx
need curl curl
[[ "$BACKENDS" == *postgres* ]] && need psql postgresql-client

if [[ -n "${LEAKWATCH:-}" ]]; then
    BIN="$(cd "$(dirname "$LEAKWATCH")" && pwd)/$(basename "$LEAKWATCH")"
    [[ -x "$BIN" ]] || { log "LEAKWATCH=$LEAKWATCH is not an executable"; exit 2; }
    log "benchmarking $BIN"
else
    log "building leakwatch (release)"
    (cd "$ROOT" && cargo build --release --quiet -p leakwatch-cli)
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/leakwatch"
fi
PERF_DIR="${PERF_DIR:-}"
if [[ -n "$PERF_DIR" ]]; then
    need perf linux-perf
    mkdir -p "$PERF_DIR"
    PERF_DIR="$(cd "$PERF_DIR" && pwd)"
fi

wait_http() {
    # wait_http URL: up to 20 s for a 200.
    for _ in $(seq 1 200); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.1
    done
    log "no answer from $1"
    return 1
}

# nginx: empty_gif on loopback, no access log (leakwatch does not log requests either),
# long keep-alive like hyper's.
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            empty_gif;
            add_header Cache-Control "no-store" always;
        }
    }
}
EOF
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
NGINX_URL="http://127.0.0.1:$NGINX_PORT/p/empty.gif"
wait_http "$NGINX_URL"

to_ms() {
    # wrk's latency ("812.00us", "1.20ms", "1.01s") in milliseconds.
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000
        printf "%.2f", n }'
}

# run_wrk URL DURATION -> "requests rps p99_ms p50_ms non2xx socket_errors"
# With MESSAGES > 1 the URL is only the base; the Lua script picks each request's path.
run_wrk() {
    local out
    if ((MESSAGES > 1)); then
        out="$(cd "$WORK" && wrk -t1 -c"$CONNECTIONS" -d"$2" --latency -s "$ROOT/bench/pixel-spread.lua" "$1")"
    else
        out="$(wrk -t1 -c"$CONNECTIONS" -d"$2" --latency -H "User-Agent: $UA" "$1")"
    fi
    printf '%s\n' "$out" >>"$WORK/wrk.log"
    local requests rps p99 p50 non2xx errors
    requests="$(awk '/requests in/ {print $1}' <<<"$out")"
    rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
    p99="$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")"
    p50="$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")"
    non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")"
    errors="$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")"
    echo "$requests $rps $p99 $p50 ${non2xx:-0} ${errors:-0}"
}

disk_sync_ms() {
    # The disk's latency for one synchronous 8 kB write (what a PostgreSQL commit waits
    # for), from 200 O_DSYNC writes next to the bench's files.
    local out
    out="$(LC_ALL=C dd if=/dev/zero of="$WORK/sync.tmp" bs=8k count=200 oflag=dsync 2>&1 | tail -n1)"
    rm -f "$WORK/sync.tmp"
    awk -v line="$out" 'BEGIN {
        n = split(line, f, " ")
        for (i = 1; i <= n; i++) if (f[i] ~ /^s,?$/) { printf "%.3f", f[i - 1] * 1000 / 200; exit }
        print "?" }'
}

json_field() {
    # json_field NAME < JSON: the first string or number value of NAME.
    sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" | head -n1
}

FAILED=0
SUMMARY=""

bench_backend() {
    local backend="$1" url sync=true
    case "$backend" in
        sqlite) url="sqlite://$WORK/sqlite/leakwatch.db" ;;
        postgres | postgres-async)
            [[ "$backend" == postgres-async ]] && sync=false
            PG_DB="leakwatch_bench_$$"
            psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
            url="${PG_ADMIN_URL%/*}/$PG_DB"
            ;;
        *) log "unknown backend $backend"; return 1 ;;
    esac
    log ""
    log "== $backend =="
    log "disk: $(disk_sync_ms) ms per synchronous 8 kB write"
    # Recipients fetch from elsewhere, not from the network that registered the message (all
    # loopback here): no fetch is re-classed as the sender's own view.
    (cd "$WORK" && LEAKWATCH_LOG=warn LEAKWATCH_PIXEL__SYNCHRONOUS_COMMIT="$sync" LEAKWATCH_PIXEL__SELF_VIEW_SECONDS=0 exec "$BIN" serve --listen "127.0.0.1:$LW_PORT" --database-url "$url") \
        2>>"$WORK/leakwatch-$backend.log" &
    LW_PID=$!
    local base="http://127.0.0.1:$LW_PORT"
    wait_http "$base/readyz"

    "$BIN" tenant create --name bench --domain bench.example --database-url "$url" >/dev/null
    "$BIN" user add --tenant bench --email sender@bench.example --database-url "$url" >/dev/null
    local bearer registered pixel message
    bearer="$("$BIN" token issue --tenant bench --email sender@bench.example --ttl 1h --database-url "$url")"
    registered="$(curl -sf -X POST "$base/api/v1/messages" -H "Authorization: Bearer $bearer" \
        -H 'Content-Type: application/json' \
        -d '{"to": ["someone@elsewhere.example"], "subject": "bench", "track": true}')"
    pixel="$(json_field pixel_url <<<"$registered")"
    message="$(json_field id <<<"$registered")"
    [[ -n "$pixel" && -n "$message" ]] || { log "registration failed: $registered"; return 1; }
    log "pixel URL: $pixel"
    if ((MESSAGES > 1)); then
        # The other MESSAGES-1 messages, over one keep-alive connection; their pixel paths
        # (and the first one's) go to paths.txt for the Lua script.
        printf '%s\n' "${pixel#"$base"}" >"$WORK/paths.txt"
        python3 - "$base" "$bearer" "$MESSAGES" >>"$WORK/paths.txt" <<'PY'
import http.client, json, sys, urllib.parse
base, bearer, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = urllib.parse.urlsplit(base)
conn = http.client.HTTPConnection(url.hostname, url.port)
for i in range(1, count):
    body = json.dumps({"to": [f"r{i}@client{i % 97}.example"], "subject": f"bench {i}", "track": True})
    conn.request("POST", "/api/v1/messages", body, {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"})
    answer = conn.getresponse()
    data = answer.read()
    if answer.status != 201 and answer.status != 200:
        sys.exit(f"registration {i} failed: {answer.status} {data[:200]!r}")
    print(urllib.parse.urlsplit(json.loads(data)["pixel_url"]).path)
PY
        log "registered $MESSAGES tracked messages"
    fi

    local total=0 non2xx=0 errors=0 lw_sum=0 ng_sum=0 worst_lw=0 worst_ng=0 runs=0
    local requests rps p99 p50 bad err lw_p50=0 ng_p50=0
    local lw_target="$pixel" ng_target="$NGINX_URL"
    if ((MESSAGES > 1)); then
        lw_target="$base"
        ng_target="http://127.0.0.1:$NGINX_PORT"
    fi
    printf '%-8s %-6s %12s %10s %10s %14s %10s\n' round target "requests/s" "p50 ms" "p99 ms" "requests" errors >&2
    for round in warmup $(seq 1 "$ROUNDS"); do
        local duration="$DURATION"
        [[ "$round" == warmup ]] && duration="$WARMUP"
        local perf_pid=""
        if [[ -n "$PERF_DIR" && "$round" == 1 ]]; then
            perf record -q -g -p "$LW_PID" -o "$PERF_DIR/$backend-$MESSAGES.data" 2>>"$WORK/perf.log" &
            perf_pid=$!
        fi
        read -r requests rps p99 p50 bad err <<<"$(run_wrk "$lw_target" "$duration")"
        if [[ -n "$perf_pid" ]]; then
            kill -INT "$perf_pid" 2>/dev/null || true
            wait "$perf_pid" 2>/dev/null || true
            perf report -i "$PERF_DIR/$backend-$MESSAGES.data" --no-children --sort symbol -g none \
                --percent-limit 0.5 --stdio 2>/dev/null | grep -v '^$' | grep -E '^ +[0-9]' \
                >"$PERF_DIR/$backend-$MESSAGES.txt" || true
            log "profile: $PERF_DIR/$backend-$MESSAGES.txt"
        fi
        printf '%-8s %-6s %12s %10s %10s %14s %10s\n' "$round" leakwatch "$rps" "$p50" "$p99" "$requests" "$((bad + err))" >&2
        total=$((total + requests))
        non2xx=$((non2xx + bad))
        errors=$((errors + err))
        runs=$((runs + 1))
        if [[ "$round" != warmup ]]; then
            lw_sum="$(awk -v a="$lw_sum" -v b="$rps" 'BEGIN {print a + b}')"
            worst_lw="$(awk -v a="$worst_lw" -v b="$p99" 'BEGIN {print (b > a) ? b : a}')"
            lw_p50="$(awk -v a="$lw_p50" -v b="$p50" 'BEGIN {print (b > a) ? b : a}')"
        fi
        read -r requests rps p99 p50 bad err <<<"$(run_wrk "$ng_target" "$duration")"
        printf '%-8s %-6s %12s %10s %10s %14s %10s\n' "$round" nginx "$rps" "$p50" "$p99" "$requests" "$((bad + err))" >&2
        if [[ "$round" != warmup ]]; then
            ng_sum="$(awk -v a="$ng_sum" -v b="$rps" 'BEGIN {print a + b}')"
            worst_ng="$(awk -v a="$worst_ng" -v b="$p99" 'BEGIN {print (b > a) ? b : a}')"
            ng_p50="$(awk -v a="$ng_p50" -v b="$p50" 'BEGIN {print (b > a) ? b : a}')"
        fi
    done

    # What the writer did: hits per commit and time per commit (means over the whole run),
    # from the server's own histograms.
    local writer_line
    writer_line="$(curl -sf "$base/metrics" | awk '
        /^leakwatch_pixel_batch_size_sum/ { bs = $2 } /^leakwatch_pixel_batch_size_count/ { bc = $2 }
        /^leakwatch_pixel_commit_seconds_sum/ { cs = $2 } /^leakwatch_pixel_commit_seconds_count/ { cc = $2 }
        END { if (bc > 0 && cc > 0) printf "%d commits, %.1f hits per commit, %.2f ms per commit (queued to answered)", bc, bs / bc, cs * 1000 / cc }')"
    log "writer: ${writer_line:-no metrics}"

    # Every fetch wrk saw answered must be counted. wrk stops each run with up to 64
    # requests in flight that the server still answers (and counts) after wrk stopped
    # reading, so hits_total may exceed wrk's count by at most that.
    local hits
    if ((MESSAGES > 1)); then
        # Every count the server holds, once it has shut down (a graceful stop commits what
        # was queued).
        stop_pid "$LW_PID"
        LW_PID=""
        if [[ "$backend" == sqlite ]]; then
            hits="$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COALESCE(SUM(hits), 0) FROM pixel_counts").fetchone()[0])' "$WORK/sqlite/leakwatch.db")"
        else
            hits="$(psql "$url" -Atc "SELECT COALESCE(SUM(hits), 0) FROM pixel_counts")"
        fi
    else
        local incident
        incident="$(curl -sf -X POST "$base/api/v1/incidents" -H "Authorization: Bearer $bearer" \
            -H 'Content-Type: application/json' \
            -d "{\"message_id\": \"$message\", \"wrong_recipients\": [\"someone@elsewhere.example\"]}" | json_field id)"
        hits="$(curl -sf "$base/api/v1/incidents/$incident" -H "Authorization: Bearer $bearer" | json_field hits_total)"
    fi
    local answered=$((total - non2xx)) slack=$((CONNECTIONS * runs + errors))
    local verdict="ok"
    if ((hits < answered || hits > total + slack)); then
        verdict="MISMATCH"
        FAILED=1
    fi
    local ratio
    ratio="$(awk -v a="$lw_sum" -v b="$ng_sum" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')"
    log "leakwatch $(awk -v s="$lw_sum" -v n="$ROUNDS" 'BEGIN {printf "%.0f", s / n}') req/s, nginx $(awk -v s="$ng_sum" -v n="$ROUNDS" 'BEGIN {printf "%.0f", s / n}') req/s (means of $ROUNDS rounds): ratio $ratio; worst p50 leakwatch ${lw_p50} ms, nginx ${ng_p50} ms; worst p99 leakwatch ${worst_lw} ms, nginx ${worst_ng} ms"
    log "disk: $(disk_sync_ms) ms per synchronous 8 kB write"
    log "counted: wrk answered $answered (completed $total, non-2xx $non2xx, socket errors $errors), hits_total $hits: $verdict"
    SUMMARY+="$backend, $MESSAGES messages: leakwatch $(awk -v s="$lw_sum" -v n="$ROUNDS" 'BEGIN {printf "%.0f", s / n}') req/s, nginx $(awk -v s="$ng_sum" -v n="$ROUNDS" 'BEGIN {printf "%.0f", s / n}'), ratio $ratio, leakwatch p50 ${lw_p50} ms p99 ${worst_lw} ms, answered $answered, counted $hits ($verdict)"$'\n'

    stop_pid "$LW_PID"
    LW_PID=""
    if [[ -n "$PG_DB" ]]; then
        psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
        PG_DB=""
    fi
}

log "wrk -t1 -c$CONNECTIONS -d$DURATION --latency over $MESSAGES message(s), $ROUNDS rounds alternated (after a $WARMUP warm-up); $(nproc) CPUs shared by wrk, nginx and leakwatch"
for backend in $BACKENDS; do
    bench_backend "$backend"
done
log ""
printf '%s' "$SUMMARY"
exit "$FAILED"
