#!/usr/bin/env bash
# Smoke test of a compiled executable: version, init, check, start, status, a refused second start, stop.
set -euo pipefail
bin=$(realpath "$1")
wd=$(mktemp -d)
trap 'kill $(cat "$wd/var/run/openedge.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$wd"' EXIT

"$bin" version
"$bin" init "$wd" >/dev/null
"$bin" check -w "$wd" | grep -qx 'OK!'
# stdout to a file: the master logs to its log file only (logger.console: auto)
"$bin" start -w "$wd" >"$wd/master.out" 2>&1 &
log="$wd/var/log/openedge/openedge.log"
for _ in $(seq 1 100); do grep -qs 'master_ready' "$log" && break; sleep 0.1; done
grep -qs 'master_ready' "$log" || { cat "$wd/master.out" "$log"; exit 1; }
status=$("$bin" status -w "$wd")
grep -q 'is running' <<<"$status"
if "$bin" start -w "$wd" 2>"$wd/second.err"; then echo "second master started"; exit 1; fi
grep -q 'another openedge master is running' "$wd/second.err"
"$bin" stop -w "$wd"
[ ! -e "$wd/var/run/openedge.pid" ] || { echo "pid file left behind"; exit 1; }
echo "smoke: ok"
