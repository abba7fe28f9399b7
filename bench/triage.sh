#!/usr/bin/env bash
# bench/triage.sh: the full-screen triage on a generated queue (issue 14):
# time to the first dashboard, warm and cold, the latency of a drill-down, a
# sort and a filter (as the header shows it: the time to answer from memory),
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
# The header's "(snapshot of N messages, about S; T ms)".
header_ms() { screen | sed -n 's/.*snapshot of [0-9]* messages, about [^;]*; \([0-9]*\) ms).*/\1/p' | head -1; }
header_mem() { screen | sed -n 's/.*snapshot of [0-9]* messages, about \([^;]*\);.*/\1/p' | head -1; }
# Waits until the screen shows $1 (a fixed string); prints the seconds waited.
wait_for() {
    local start=${EPOCHREALTIME/./} waited
    until screen | grep -qF -- "$1"; do
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
keys() { tmux send-keys -t "$session" "$@"; sleep 0.5; }

run() { # $1: warm or cold
    [[ $1 == cold ]] && { sync; echo 3 >/proc/sys/vm/drop_caches; }
    tmux new-session -d -s "$session" -x 200 -y 60 \
        "/usr/bin/time -v -o $tmp/time $qs -c $cf triage; sleep 1"
    local first
    first=$(wait_for "snapshot of")
    local mem drill sort filter
    mem=$(header_mem)
    keys Enter; drill=$(header_ms)
    keys l; keys s; sort=$(header_ms)
    keys Escape; keys Escape
    keys / 'size > 10K' Enter; filter=$(header_ms)
    keys q
    while tmux has-session -t "$session" 2>/dev/null; do sleep 0.2; done
    local rss
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time")
    printf '| %s | %s | %.1f s | %s ms | %s ms | %s ms | %s MB | %s |\n' \
        "$size" "$1" "$first" "$drill" "$sort" "$filter" "$((rss / 1024))" "$mem"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| queue | cache | first dashboard | drill-down | sort | filter \`size > 10K\` | peak RSS | snapshot size on screen |"
echo "|---|---|---:|---:|---:|---:|---:|---|"
run warm >/dev/null # warm the cache (and the binary)
run warm
((cold)) && run cold
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
