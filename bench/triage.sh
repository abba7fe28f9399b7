#!/usr/bin/env bash
# bench/triage.sh: the full-screen triage on a generated queue (issue 14):
# time to the first (partial) and the full dashboard, warm and cold, the
# latency of a drill-down, a sort and a filter (as the header shows it: the time to answer from memory),
# peak RSS as the OS measures it (GNU time) against the snapshot size the
# screen shows. Drives `qsurgeon triage` in a real terminal (tmux, 200x60),
# read-only: it narrows, lists, sorts, filters and quits; it never acts.
#
# Usage: bench/triage.sh [--no-cold] SIZE   (SIZE as for bench/run.sh)
# Environment: BENCH_DATA (default bench/data), CARGO_TARGET_DIR.
# Needs root (reading the spool), tmux, GNU time, a queue made by bench/run.sh.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cold=1
[[ ${1:-} == --no-cold ]] && { cold=0; shift; }
size=${1:?usage: bench/triage.sh [--no-cold] SIZE}
case $size in
*[kK]) n=$((${size%[kK]} * 1000)) ;;
*M) n=$((${size%M} * 1000000)) ;;
*) n=$size ;;
esac
data=${BENCH_DATA:-$repo/bench/data}
target=${CARGO_TARGET_DIR:-$repo/target}
cf=$data/q$n.cf
[[ -d $cf ]] || { echo "bench/triage.sh: no queue config $cf (run bench/run.sh $size first)" >&2; exit 1; }
(cd "$repo" && cargo build -q --release)
qs=$target/release/qsurgeon
tmp=$(mktemp -d)
session=qsbench$$
trap 'tmux kill-session -t $session 2>/dev/null || true; rm -rf "$tmp"' EXIT

screen() { tmux capture-pane -p -t "$session"; }
# The header's "[T ms]  snapshot S (+ list L), process RSS R, peak P, B at start".
header_ms() { screen | sed -n 's/.*\[\([0-9]*\) ms\].*/\1/p' | head -1; }
header_mem() { screen | sed -n 's/.*  snapshot \([^ ]*\) (+ list.*/\1/p' | head -1; }
header_rss() { screen | sed -n 's/.*process RSS \([^,]*\),.*/\1/p' | head -1; }
# Waits until the screen matches $1 (an extended regex); prints the seconds
# waited since $2 (an EPOCHREALTIME without its dot).
wait_for() {
    local start=$2 waited
    until screen | grep -qE -- "$1"; do
        sleep 0.05
        waited=$((${EPOCHREALTIME/./} - start))
        if ((waited > 900000000)); then
            echo "bench/triage.sh: no '$1' on screen after 900 s" >&2
            screen >&2
            exit 1
        fi
    done
    waited=$((${EPOCHREALTIME/./} - start))
    printf '%d.%06d\n' $((waited / 1000000)) $((waited % 1000000))
}
keys() { tmux send-keys -t "$session" "$@"; sleep 1; }

run() { # $1: warm or cold
    [[ $1 == cold ]] && { sync; echo 3 >/proc/sys/vm/drop_caches; }
    local start=${EPOCHREALTIME/./}
    tmux new-session -d -s "$session" -x 200 -y 60 \
        "/usr/bin/time -v -o $tmp/time $qs -c $cf triage; sleep 1"
    local partial full mem rss drill sort filter
    # The dashboard fills while the scan runs ("so far: N messages"), and
    # is final when the header shows the snapshot.
    partial=$(wait_for 'so far: [1-9]|  snapshot ' "$start")
    full=$(wait_for '  snapshot ' "$start")
    mem=$(header_mem) rss=$(header_rss)
    keys Enter; drill=$(header_ms)
    keys l; keys s; sort=$(header_ms)
    keys Escape; keys Escape
    keys / 'recipients > 3' Enter; filter=$(header_ms)
    keys q
    while tmux has-session -t "$session" 2>/dev/null; do sleep 0.2; done
    local peak
    peak=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time")
    printf '| %s | %s | %.1f s | %.1f s | %s ms | %s ms | %s ms | %s MB | %s | %s |\n' \
        "$size" "$1" "$partial" "$full" "$drill" "$sort" "$filter" "$((peak / 1024))" "$mem" "$rss"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| queue | cache | first (partial) dashboard | full dashboard | drill-down | sort by size | filter \`recipients > 3\` | peak RSS (GNU time) | snapshot on screen | process RSS on screen |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---|---|"
run warm >/dev/null # warm the cache (and the binary)
run warm
((cold)) && run cold
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
