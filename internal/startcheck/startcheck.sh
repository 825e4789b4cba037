#!/usr/bin/env bash
# Starts the built program as an operator would and reports, for the first
# start on an empty data folder and for a restart on it, the time from
# launch to the first answered request (/healthz, then /login) and the
# resident memory (VmRSS) after it has stood idle. From the repository root:
#
#   internal/startcheck/startcheck.sh [idle-seconds] [restarts]
#
# It builds the program into a temporary folder and runs it on free ports
# with its built-in sandbox; the first start creates the admin account (one
# argon2id hash). Each start is stopped with SIGTERM before the next.
set -euo pipefail

idle=${1:-10}
restarts=${2:-3}
work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/paydesk" .
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port

start() {
	local label=$1 t0 t1 login
	t0=$(date +%s%N)
	PAYDESK_ADMIN_PASSWORD=start-check-password "$work/paydesk" -addr "127.0.0.1:$port" -sandbox-addr 127.0.0.1:0 -data "$work/data" >>"$work/log" 2>&1 &
	pid=$!
	until curl -s -o /dev/null "$url/healthz"; do
		kill -0 "$pid" 2>/dev/null || { cat "$work/log"; exit 1; }
		sleep 0.002
	done
	t1=$(date +%s%N)
	login=$(curl -s -o /dev/null -w '%{http_code}' "$url/login")
	[ "$login" = 200 ] || { echo "/login answered $login"; exit 1; }
	sleep "$idle"
	printf '%-8s first response %4d ms, after %ss idle: %s, %s\n' "$label" $(((t1 - t0) / 1000000)) "$idle" \
		"$(grep VmRSS "/proc/$pid/status" | tr -s ' \t' ' ')" "$(grep RssAnon "/proc/$pid/status" | tr -s ' \t' ' ')"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
}

start first
for i in $(seq "$restarts"); do
	start "restart"
done
