#!/usr/bin/env bash
# bench/run.sh: qsurgeon against Postfix's own tools on generated queues
# (issue 5). For each size it generates (or reuses) a realistic queue with
# crates/queue-gen, checks that postqueue -j and qsurgeon list --json agree on
# it, then times, on that same queue in one run:
#   list --json                 vs postqueue -j
#   list --sender X --ids       vs postqueue -j | jq, postqueue -p | grep | awk
#   list --sasl-user X --ids    vs grep -rl sasl_username=X over the spool
#   summary, and summary --by recipient-domain --matrix recipient-domain
#                               (qshape's view)  vs qshape
#   delete --sasl-user X        vs postqueue -p | grep | awk | postsuper -d -,
#                               and postsuper -d - fed the same IDs
#   bench/floor                 (open + read 4 KiB of every queue file)
# with hyperfine (warm cache, and cold cache where /proc/sys/vm/drop_caches
# is writable) and /usr/bin/time -v (peak RSS). Writes the raw results to
# bench/results/<size>-<date>.json and prints a markdown table; a plot of time
# against size is redrawn from all results (bench/plot.py, if python3 exists).
#
# Usage: bench/run.sh [--smoke] [--no-cold] [--runs N] [--regen] [--seed N] [SIZE…]
#   SIZE: 10k (default), 100k, 1M, or a number.
#   --smoke: CI mode: 10k messages, every comparison once, debug build, no cold
#            cache, results in $BENCH_DATA/smoke; exits 0 when everything ran.
# Environment: BENCH_DATA (queues; default bench/data), CARGO_TARGET_DIR,
#   BENCH_PROFILE (release or dev; default release, dev for --smoke),
#   BENCH_MAX_LOAD (wait for the load average to fall to it first; default 0.5).
# Needs root (postsuper, reading the spool), Postfix, hyperfine, jq, GNU time.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
smoke=0 cold=1 runs_override="" regen=0 seed=1
sizes=()
while (($#)); do
    case $1 in
    --smoke) smoke=1 ;;
    --no-cold) cold=0 ;;
    --runs) runs_override=$2; shift ;;
    --regen) regen=1 ;;
    --seed) seed=$2; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) sizes+=("$1") ;;
    *) echo "bench/run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
if ((smoke)); then
    sizes=(10000) cold=0
fi
((${#sizes[@]})) || sizes=(10000)

data=${BENCH_DATA:-$repo/bench/data}
target=${CARGO_TARGET_DIR:-$repo/target}
profile=${BENCH_PROFILE:-$( ((smoke)) && echo dev || echo release)}
bindir=$target/$([[ $profile == dev ]] && echo debug || echo release)
results=$repo/bench/results
((smoke)) && results=$data/smoke
mkdir -p "$data" "$results"
started=$SECONDS

say() { printf '%s\n' "bench: $*" >&2; }
die() { say "$*"; exit 1; }

# 10k, 100k, 1M → numbers.
count_of() {
    case $1 in
    *[kK]) echo $((${1%[kK]} * 1000)) ;;
    *M) echo $((${1%M} * 1000000)) ;;
    *) echo "$1" ;;
    esac
}

# Postfix's tools live in /usr/sbin, which a CI shell's PATH may lack.
export PATH=$PATH:/usr/sbin:/sbin
ensure_tools() {
    local missing=()
    command -v hyperfine >/dev/null || missing+=(hyperfine)
    command -v jq >/dev/null || missing+=(jq)
    [[ -x /usr/bin/time ]] || missing+=(time)
    if ((${#missing[@]})); then
        if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
            say "installing ${missing[*]}"
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
                { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
        else
            die "missing ${missing[*]} (apt-get install ${missing[*]})"
        fi
    fi
    for t in postqueue postsuper postcat postconf; do
        command -v $t >/dev/null || die "$t not found: install Postfix (scripts/install-test-deps.sh)"
    done
    [[ $(id -u) == 0 ]] || die "run as root: postsuper and reading the spool need it"
}
ensure_tools
have_qshape=0
command -v qshape >/dev/null && have_qshape=1
can_drop=0
if ((cold)) && sync && (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
    can_drop=1
fi
cold_note=$( ((cold == 0)) && echo "not measured (--no-cold or --smoke)" ||
    { ((can_drop)) && echo "measured: sync; echo 3 > /proc/sys/vm/drop_caches before each run" ||
        echo "not measured: /proc/sys/vm/drop_caches is not writable here"; })

say "building ($profile) into $target"
cargo_flags=(--locked)
[[ $profile == release ]] && cargo_flags+=(--release)
(cd "$repo" && cargo build -q "${cargo_flags[@]}" -p qsurgeon -p qsurgeon-queue-gen)
(cd "$repo/bench/floor" && CARGO_TARGET_DIR=$target cargo build -q "${cargo_flags[@]}")
gen=$bindir/queue-gen qs_bin=$bindir/qsurgeon
qs=$(printf %q "$bindir/qsurgeon") floor=$(printf %q "$bindir/floor")

machine_json=$(jq -n --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
    --argjson nproc "$(nproc)" \
    --argjson mem_kb "$(awk '/^MemTotal/ {print $2}' /proc/meminfo)" \
    --arg kernel "$(uname -r)" \
    --arg postfix "$(postconf -d -h mail_version 2>/dev/null)" \
    --arg hyperfine "$(hyperfine --version | awk '{print $2}')" \
    --arg commit "$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    --argjson dirty "$(git -C "$repo" diff --quiet HEAD -- src crates 2>/dev/null && echo false || echo true)" \
    '{cpu: $cpu, nproc: $nproc, mem_kb: $mem_kb, kernel: $kernel, postfix: $postfix,
      hyperfine: $hyperfine, qsurgeon_commit: $commit, qsurgeon_dirty: $dirty}')

load() { cut -d' ' -f1-3 /proc/loadavg; }

bench_size() {
    local n=$1
    local q=$data/q$n cf=$data/q$n.cf copy=$data/q$n-copy cfc=$data/q$n-copy.cf
    local tmp=$data/q$n.tmp gen_seconds=null
    rm -rf "$tmp" && mkdir -p "$tmp"

    # The queue: reused when its manifest says it is the one asked for.
    if ((regen)) || [[ $(jq -r '"\(.requested) \(.seed)"' "$q/manifest.json" 2>/dev/null) != "$n $seed" ]]; then
        say "generating $n messages in $q"
        rm -rf "$q" "$cf" "$cf.data" "$cf.log" "$copy" "$cfc"
        local t0=$SECONDS
        "$gen" -q --out "$q" -n "$n" --seed "$seed" --postfix-config "$cf" >&2
        gen_seconds=$((SECONDS - t0))
    fi
    local manifest spammer total spam
    manifest=$(cat "$q/manifest.json")
    spammer=$(jq -r .spammer.sasl_username <<<"$manifest")
    total=$(jq -r .messages <<<"$manifest")
    spam=$(jq -r .spammer.messages <<<"$manifest")
    # The copy that purges run on: hard links (cp -al) keep the inode numbers
    # that short queue IDs encode, and cost no data blocks.
    mkdir -p "$cfc"
    cp "$cf/master.cf" "$cf/local_recipients" "$cfc/"
    sed "s#^queue_directory = .*#queue_directory = $copy#" "$cf/main.cf" >"$cfc/main.cf"
    local fresh_copy="rm -rf $(printf %q "$copy") && cp -al $(printf %q "$q") $(printf %q "$copy") && : > $(printf %q "$cf.log/maillog")"

    local sender=alice@ourdomain.example
    local Q CF CFC
    Q=$(printf %q "$q") CF=$(printf %q "$cf") CFC=$(printf %q "$cfc")
    local ids_file=$tmp/spam-ids
    "$qs_bin" -c "$cf" list --sasl-user "$spammer" --ids >"$ids_file" 2>/dev/null
    [[ $(wc -l <"$ids_file") == "$spam" ]] || die "list --sasl-user $spammer found $(wc -l <"$ids_file") messages, the manifest says $spam"

    # "name ::: command" entries, by group. Pipelines run in sh, as hyperfine runs them.
    local mailq_id='^[0-9A-F]+[*!#]* +[0-9]+ '
    local -a g_json=(
        "qsurgeon list --json ::: $qs -c $CF list --json"
        "postqueue -j ::: postqueue -c $CF -j"
    )
    local -a g_sender=(
        "qsurgeon list --sender X --ids ::: $qs -c $CF list --sender $sender --ids"
        "postqueue -j | jq (sender X) ::: postqueue -c $CF -j | jq -r 'select(.sender==\"$sender\") | .queue_id'"
        "postqueue -p | grep | awk (sender X) ::: postqueue -c $CF -p | grep -E '$mailq_id.* ${sender//./\\.}\$' | awk '{print \$1}' | tr -d '*!#'"
    )
    local -a g_sasl=(
        "qsurgeon list --sasl-user X --ids ::: $qs -c $CF list --sasl-user $spammer --ids"
        "grep -rl sasl_username=X ::: grep -rl sasl_username=$spammer $Q/incoming $Q/active $Q/deferred $Q/hold"
        "floor (open + read 4 KiB) ::: $floor $Q incoming active deferred hold"
    )
    # Every table (delay reasons and DSN statuses read every defer log), and
    # qshape's own view: recipient domains by age, from the queue files alone.
    local -a g_summary=(
        "qsurgeon summary ::: $qs -c $CF summary"
        "qsurgeon summary (qshape's view) ::: $qs -c $CF summary --by recipient-domain --matrix recipient-domain"
    )
    ((have_qshape)) && g_summary+=("qshape ::: qshape -c $CF incoming active deferred hold")
    # The admin's classic purge: select the forged senders (two capitals in
    # our domain) in mailq output; '#' marks forced expiry since Postfix 3.5.
    local -a g_purge=(
        "qsurgeon delete --sasl-user X ::: $qs -c $CFC delete --sasl-user $spammer --yes --quiet --no-journal"
        "postqueue -p | grep | awk | postsuper -d - ::: postqueue -c $CFC -p | grep -E '$mailq_id.* [A-Z]{2}@ourdomain\\.example\$' | awk '{print \$1}' | tr -d '*!#' | postsuper -c $CFC -d -"
        "postsuper -d - (same IDs) ::: postsuper -c $CFC -d - < $(printf %q "$ids_file")"
    )
    # The scan alone under the same conditions as the purges (a copy just
    # made by cp -al), for the goal "delete <= scan + postsuper + 10%".
    local -a g_copy_scan=(
        "qsurgeon list --sasl-user X --ids (fresh copy) ::: $qs -c $CFC list --sasl-user $spammer --ids"
    )

    local warm_runs cold_runs purge_runs warmup=1
    if ((n <= 20000)); then warm_runs=10 cold_runs=5 purge_runs=5
    elif ((n <= 200000)); then warm_runs=5 cold_runs=3 purge_runs=3
    else warm_runs=3 cold_runs=2 purge_runs=2; fi
    [[ -n $runs_override ]] && warm_runs=$runs_override cold_runs=$runs_override purge_runs=$runs_override
    ((smoke)) && warm_runs=1 cold_runs=1 purge_runs=1 warmup=0

    # hyperfine GROUP OUT RUNS WARMUP PREPARE ENTRIES…
    hf() {
        local out=$1 runs=$2 warm=$3 prepare=$4
        shift 4
        local args=(--style basic --runs "$runs" --warmup "$warm" --export-json "$out")
        [[ -n $prepare ]] && args+=(--prepare "$prepare")
        local e
        for e in "$@"; do args+=(-n "${e%% ::: *}" "${e#* ::: }"); done
        hyperfine "${args[@]}" >&2
    }

    # A quiet machine: wait (up to 10 minutes) for the 1-minute load average
    # to fall to BENCH_MAX_LOAD (0.5), e.g. after the build; the load is
    # recorded either way.
    local waited=0
    while ((smoke == 0 && waited < 600)) &&
        awk -v max="${BENCH_MAX_LOAD:-0.5}" '{exit !($1 > max)}' /proc/loadavg; do
        ((waited % 60)) || say "waiting for the load average ($(load)) to fall to ${BENCH_MAX_LOAD:-0.5}"
        sleep 10
        waited=$((waited + 10))
    done
    local load_before
    load_before=$(load)
    say "$n messages ($total complete, spammer $spammer: $spam); load $load_before"

    # Correctness first: postqueue -j and list --json list the same messages,
    # in the same order, with the same postqueue members; list is postqueue -p
    # byte for byte; the sender selections agree.
    local norm='{queue_name,queue_id,arrival_time,message_size,forced_expire,sender,recipients:[.recipients[]|with_entries(select(.key=="address" or .key=="delay_reason"))]}'
    postqueue -c "$cf" -j 2>/dev/null | jq -c "$norm" >"$tmp/pq"
    "$qs_bin" -c "$cf" list --json 2>/dev/null | jq -c "$norm" >"$tmp/qs"
    cmp -s "$tmp/pq" "$tmp/qs" || die "postqueue -j and qsurgeon list --json differ on $q (see $tmp/pq, $tmp/qs)"
    postqueue -c "$cf" -p >"$tmp/pq-p" 2>/dev/null
    "$qs_bin" -c "$cf" list >"$tmp/qs-p" 2>/dev/null
    cmp -s "$tmp/pq-p" "$tmp/qs-p" || die "postqueue -p and qsurgeon list differ on $q (see $tmp/pq-p, $tmp/qs-p)"
    local verified=true
    local e counts=()
    for e in "${g_sender[@]}"; do
        counts+=("$(sh -c "${e#* ::: }" 2>/dev/null | wc -l)")
    done
    [[ ${counts[0]} == "${counts[1]}" && ${counts[0]} == "${counts[2]}" ]] ||
        die "sender selections disagree: ${counts[*]}"

    say "warm cache"
    hf "$tmp/warm-json.json" "$warm_runs" "$warmup" "" "${g_json[@]}"
    hf "$tmp/warm-sender.json" "$warm_runs" "$warmup" "" "${g_sender[@]}"
    hf "$tmp/warm-sasl.json" "$warm_runs" "$warmup" "" "${g_sasl[@]}"
    hf "$tmp/warm-summary.json" "$warm_runs" "$warmup" "" "${g_summary[@]}"
    say "purges, each on a fresh cp -al copy"
    hf "$tmp/warm-purge.json" "$purge_runs" 0 "$fresh_copy" "${g_purge[@]}" "${g_copy_scan[@]}"

    if ((can_drop)); then
        say "cold cache"
        local drop='sync; echo 3 > /proc/sys/vm/drop_caches'
        hf "$tmp/cold-json.json" "$cold_runs" 0 "$drop" "${g_json[@]}"
        hf "$tmp/cold-sasl.json" "$cold_runs" 0 "$drop" "${g_sasl[@]}"
        hf "$tmp/cold-summary.json" "$cold_runs" 0 "$drop" "${g_summary[@]}"
    fi

    # Peak RSS: one warm run each under GNU time (for a pipeline, the largest
    # process in it). Purges run on a fresh copy, then the queue is checked.
    say "peak RSS"
    local rss='{}' purge_check='{}' name cmd kb left spam_left
    for e in "${g_json[@]}" "${g_sender[@]}" "${g_sasl[@]}" "${g_summary[@]}"; do
        name=${e%% ::: *} cmd=${e#* ::: }
        /usr/bin/time -v -o "$tmp/time.txt" sh -c "$cmd" >/dev/null 2>&1 || die "failed: $cmd"
        kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt")
        rss=$(jq --arg k "$name" --argjson v "$kb" '.[$k] = $v' <<<"$rss")
    done
    for e in "${g_purge[@]}"; do
        name=${e%% ::: *} cmd=${e#* ::: }
        sh -c "$fresh_copy"
        /usr/bin/time -v -o "$tmp/time.txt" sh -c "$cmd" >/dev/null 2>&1 || die "failed: $cmd"
        kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt")
        rss=$(jq --arg k "$name" --argjson v "$kb" '.[$k] = $v' <<<"$rss")
        left=$("$qs_bin" -c "$cfc" list --count 2>/dev/null || true)
        spam_left=$("$qs_bin" -c "$cfc" list --sasl-user "$spammer" --count 2>/dev/null || true)
        [[ $left == $((total - spam)) && $spam_left == 0 ]] ||
            die "$name left $left messages ($spam_left of the spammer's); expected $((total - spam)) and 0"
        purge_check=$(jq --arg k "$name" --argjson l "$left" '.[$k] = {remaining: $l, spammer_remaining: 0}' <<<"$purge_check")
    done
    rm -rf "$copy"

    local date out
    date=$(date -u +%Y-%m-%dT%H%MZ)
    out=$results/$n-$date.json
    jq -n --argjson n "$n" --arg date "$date" \
        --arg mode "$( ((smoke)) && echo smoke || echo full)" --arg profile "$profile" \
        --argjson machine "$machine_json" --argjson manifest "$manifest" \
        --arg load_before "$load_before" --arg load_after "$(load)" \
        --argjson gen_seconds "$gen_seconds" --argjson verified "$verified" \
        --arg cold_note "$cold_note" --argjson rss "$rss" --argjson purge_check "$purge_check" \
        --arg sender "$sender" --arg spammer "$spammer" \
        --slurpfile wj "$tmp/warm-json.json" --slurpfile ws "$tmp/warm-sender.json" \
        --slurpfile wa "$tmp/warm-sasl.json" --slurpfile wm "$tmp/warm-summary.json" \
        --slurpfile wp "$tmp/warm-purge.json" \
        --slurpfile cj <(cat "$tmp/cold-json.json" 2>/dev/null || echo null) \
        --slurpfile ca <(cat "$tmp/cold-sasl.json" 2>/dev/null || echo null) \
        --slurpfile cm <(cat "$tmp/cold-summary.json" 2>/dev/null || echo null) \
        '{size: $n, date: $date, mode: $mode, profile: $profile, machine: $machine,
          load_before: $load_before, load_after: $load_after, generation_seconds: $gen_seconds,
          manifest: $manifest, sender: $sender, spammer: $spammer,
          postqueue_j_agrees: $verified, purge_check: $purge_check, cold_cache: $cold_note,
          warm: ([$wj, $ws, $wa, $wm, $wp] | map(.[0].results) | add),
          cold: ([$cj, $ca, $cm] | map(.[0] | select(. != null) | .results) | add),
          rss_kb: $rss}' >"$out"
    rm -rf "$tmp"
    say "results: $out"
    jq -r -f "$repo/bench/report.jq" "$out"
}

for s in "${sizes[@]}"; do
    bench_size "$(count_of "$s")"
done
if ((smoke == 0)) && command -v python3 >/dev/null; then
    python3 "$repo/bench/plot.py" "$results" "$repo/bench/time-vs-size.svg" && say "plot: bench/time-vs-size.svg"
fi
say "done in $((SECONDS - started)) s"
