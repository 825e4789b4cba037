#!/usr/bin/env bash
# Uploads a 100,000-row payout file to the built program as a user would,
# and times each upload until the batch preview page has answered; prints
# the console's peak resident memory (VmHWM). From the repository root:
#
#   internal/uploadcheck/uploadcheck.sh [gbk|utf-8] [uploads]
#
# It builds the program into a temporary folder, starts it on a fresh data
# folder with free ports (and its built-in sandbox), adds the 100,000
# payouts of the week before to the database (internal/uploadcheck), signs
# in as admin with curl, uploads the file with curl -F and follows the
# redirect to the preview page, then stops the console it started. Each
# upload is a new draft batch: later uploads also meet the drafts of the
# earlier ones.
set -euo pipefail

enc=${1:-gbk}
uploads=${2:-3}
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
go run ./internal/uploadcheck -file "$work/payouts.csv" -enc "$enc"

password="upload-check-$RANDOM-$RANDOM"
PAYDESK_ADMIN_PASSWORD=$password "$work/paydesk" -addr 127.0.0.1:0 -sandbox-addr 127.0.0.1:0 -data "$work/data" >"$work/log" 2>&1 &
pid=$!
url=
for _ in $(seq 300); do
	url=$(sed -n 's/.*msg="paydesk is listening" url=\([^ ]*\).*/\1/p' "$work/log")
	[ -n "$url" ] && break
	kill -0 "$pid" 2>/dev/null || { cat "$work/log"; exit 1; }
	sleep 0.1
done
[ -n "$url" ] || { echo "the console did not start:"; cat "$work/log"; exit 1; }
echo "console $url (pid $pid), idle: $(grep VmRSS "/proc/$pid/status" | tr -s ' \t' ' ')"

go run ./internal/uploadcheck -data "$work/data"

jar=$work/cookies
code=$(curl -sS -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' -H "Origin: $url" \
	--data-urlencode username=admin --data-urlencode "password=$password" "$url/login")
[ "$code" = 303 ] || { echo "sign-in answered $code"; exit 1; }

for i in $(seq "$uploads"); do
	echo 5 >"/proc/$pid/clear_refs" # VmHWM starts again from the current size
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
	out=$(curl -sS -c "$jar" -b "$jar" -L -o "$work/page.html" -H "Origin: $url" \
		-F "file=@$work/payouts.csv;type=text/csv" -w '%{http_code} %{time_total} %{url_effective}' "$url/payouts/batches")
	read -r code secs page <<<"$out"
	hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
	case "$code $page" in
	"200 $url/payouts/batches/"*) ;;
	*) echo "upload $i: $out"; exit 1 ;;
	esac
	grep -q 'data-testid="read-as"' "$work/page.html" || { echo "upload $i: no preview page"; exit 1; }
	printf 'upload %d (%s): %s s to the preview page; VmHWM %d MiB (VmRSS before %d MiB)\n' \
		"$i" "$enc" "$secs" $((hwm / 1024)) $((rss / 1024))
done
echo "since start: $(grep VmHWM "/proc/$pid/status" | tr -s ' \t' ' ')"
