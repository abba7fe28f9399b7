#!/bin/bash
# Benchmarks the full-screen triage on a queue, read-only, as a postmaster
# would use it (in tmux): time to the first partial and full dashboard, the
# latency the header shows after a drill-down, back, rank, the list, two
# sorts and a filter, and peak RSS as the OS measures it (/usr/bin/time -v).
# Nothing is acted on: the keys are Enter, Backspace, s, l, s, s, / and q.
#
# usage: scripts/triage-bench.sh CONFIG_DIR LABEL [BINARY]
# e.g.   scripts/triage-bench.sh /work/bench/q1000000.cf 1M target/release/qsurgeon
# Writes /tmp/triage-bench/LABEL.* (screens, the time -v output) and prints
# the figures.
set -u
cfg=$1; label=$2; bin=${3:-target/release/qsurgeon}
bin=$(realpath "$bin")
S=triage-bench$$
mkdir -p /tmp/triage-bench
out=/tmp/triage-bench/$label
rm -f "$out".*
cap() { tmux capture-pane -p -t $S; }
waitfor() {
    for _ in $(seq 1 6000); do
        cap > "$out.screen"
        grep -q -- "$1" "$out.screen" && return 0
        sleep 0.1
    done
    echo "timeout waiting for $1"; return 1
}
shot() { sleep "$2"; cap > "$out.$1"; echo "$1: $(head -1 "$out.$1")"; }
uptime
start=$(date +%s.%N)
tmux new-session -d -s $S -x 200 -y 50 "/usr/bin/time -v -o $out.time $bin -c $cfg triage; sleep 30"
waitfor "so far: [1-9]\|scanned"
echo "first partial dashboard after $(echo "$(date +%s.%N) - $start" | bc) s (polled every 0.1 s)"
waitfor "scanned"
echo "first full dashboard after $(echo "$(date +%s.%N) - $start" | bc) s"
echo "dashboard: $(head -1 "$out.screen")"
tmux send-keys -t $S Enter; shot drill 1.5
tmux send-keys -t $S BSpace; shot back 1.5
tmux send-keys -t $S s; shot rank 1.5
tmux send-keys -t $S l; shot list 2
tmux send-keys -t $S s; shot sort-size 2
tmux send-keys -t $S s; shot sort-recipients 2
tmux send-keys -t $S /; sleep 0.5
tmux send-keys -t $S "recipients > 3" Enter; shot filter 2
tmux send-keys -t $S q; sleep 3
grep -E "Maximum resident|Elapsed" "$out.time"
tmux kill-session -t $S 2>/dev/null
