#!/usr/bin/env bash
# Mutation testing (issue 13) of the code whose bugs lose mail or lie to the
# operator, each file with the fast tests that cover it. cargo-mutants plants
# one small bug at a time (a `>` turned `>=`, a body replaced by `Ok(())`…)
# and runs those tests: a mutant no test fails on is MISSED, a blind spot.
#
#   scripts/mutants.sh                     every scope below (hours: see TESTING.md)
#   scripts/mutants.sh select sanitize     only the named scopes
#   scripts/mutants.sh --changed A..B      only the lines commits A..B touched
#                                          (cargo mutants --in-diff), every scope
#   scripts/mutants.sh --list              the scopes and their mutant counts
#
# Environment: MUTANTS_JOBS (default 2), MUTANTS_SCOPE_TIMEOUT (seconds for
# one scope, default 3600), MUTANTS_OUT (default target/mutants).
# Needs `cargo install cargo-mutants --locked`. The act scopes need root and
# Debian's Postfix (their tests start real instances); the rails scope runs
# the slow integration tests. Not part of scripts/test.sh: too slow for CI.
# Exit status: 0 when no scope has a missed or timed-out mutant, 2 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

# name | file | package | args after `--` (to cargo test, then `--` to the test binaries)
scopes=(
    "select-matcher|crates/select/src/matcher.rs|qsurgeon-select|"
    "select-eval|crates/select/src/eval.rs|qsurgeon-select|"
    "select-value|crates/select/src/value.rs|qsurgeon-select|"
    "sanitize|src/ui/sanitize.rs|qsurgeon|--bin qsurgeon -- sanitize"
    "printer-postcat|crates/printer/src/postcat.rs|qsurgeon-printer|"
    "postsuper|crates/postfix/src/postsuper.rs|qsurgeon-postfix|--lib -- postsuper"
    "local-sender|crates/postfix/src/local_sender.rs|qsurgeon-postfix|--lib -- local_sender"
    "act-plan|crates/act/src/plan.rs|qsurgeon-act|"
    "act-executor|crates/act/src/executor.rs|qsurgeon-act|"
    "act-backup|crates/act/src/backup.rs|qsurgeon-act|"
    "rails|src/commands/act.rs|qsurgeon|--test integration -- act:: act_live::prompt"
)

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

changed=""
list=0
wanted=()
while (($#)); do
    case "$1" in
    --changed) changed="${2:?--changed needs a commit range, e.g. origin/main..HEAD}"; shift 2 ;;
    --changed=*) changed="${1#--changed=}"; shift ;;
    --list) list=1; shift ;;
    -h | --help) usage 0 ;;
    -*) echo "mutants.sh: unknown option $1" >&2; usage 1 >&2 ;;
    *) wanted+=("$1"); shift ;;
    esac
done

if ! cargo mutants --version >/dev/null 2>&1; then
    echo "mutants.sh: cargo-mutants is missing: cargo install cargo-mutants --locked" >&2
    exit 1
fi

# A selection that names no scope is a typo, not "nothing to do".
for w in "${wanted[@]}"; do
    found=0
    for s in "${scopes[@]}"; do [[ "${s%%|*}" == "$w" ]] && found=1; done
    ((found)) || { echo "mutants.sh: no scope named $w" >&2; exit 1; }
done

out_root=${MUTANTS_OUT:-target/mutants}
jobs=${MUTANTS_JOBS:-2}
scope_timeout=${MUTANTS_SCOPE_TIMEOUT:-3600}
mkdir -p "$out_root"

diff_file=""
if [[ -n "$changed" ]]; then
    diff_file="$out_root/changed.diff"
    git diff "$changed" >"$diff_file"
fi

# grep -c prints 0 itself when nothing matches (and exits 1).
count() { if [[ -f "$1" ]]; then grep -c . "$1" || true; else echo 0; fi; }

summary=()
bad=0
for s in "${scopes[@]}"; do
    IFS='|' read -r name file package targs <<<"$s"
    if ((${#wanted[@]})) && ! printf '%s\n' "${wanted[@]}" | grep -qx -- "$name"; then
        continue
    fi
    if [[ -n "$diff_file" ]] && ! grep -q "^+++ b/$file\$" "$diff_file"; then
        continue
    fi
    args=(--package "$package" --file "$file" --jobs "$jobs"
        --timeout-multiplier 3 --minimum-test-timeout 30 --build-timeout 600)
    [[ -n "$diff_file" ]] && args+=(--in-diff "$diff_file")
    # shellcheck disable=SC2206 # the test args are words by design
    [[ -n "$targs" ]] && args+=(-- $targs)
    if ((list)); then
        n=$(cargo mutants --list "${args[@]}" 2>/dev/null | grep -c . || true)
        printf '%-16s %-40s %4s mutants\n' "$name" "$file" "$n"
        continue
    fi
    out="$out_root/$name"
    rm -rf "$out"
    mkdir -p "$out"
    echo "== $name: cargo mutants ${args[*]}" >&2
    start=$(date +%s)
    # The act tests start real Postfix instances and must not skip.
    status=0
    QSURGEON_REQUIRE_POSTFIX=1 timeout "$scope_timeout" \
        cargo mutants --output "$out" "${args[@]}" >"$out/log" 2>&1 || status=$?
    secs=$(($(date +%s) - start))
    d="$out/mutants.out"
    caught=$(count "$d/caught.txt")
    missed=$(count "$d/missed.txt")
    unviable=$(count "$d/unviable.txt")
    timeouts=$(count "$d/timeout.txt")
    # cargo-mutants: 0 all caught, 2 missed, 3 timeouts, 4 baseline failed.
    note=""
    case $status in
    0 | 2 | 3) ;;
    124) note=" (scope timeout after ${scope_timeout}s: partial)" ;;
    *) note=" (cargo-mutants exit $status: see $out/log)" ;;
    esac
    line=$(printf '%-16s %-38s caught %4s  missed %3s  unviable %3s  timeout %2s  %5ss%s' \
        "$name" "$file" "$caught" "$missed" "$unviable" "$timeouts" "$secs" "$note")
    echo "$line" >&2
    summary+=("$line")
    if [[ -s "$d/missed.txt" ]]; then
        sed 's/^/    MISSED /' "$d/missed.txt" >&2
        bad=1
    fi
    [[ -s "$d/timeout.txt" || -n "$note" ]] && bad=1
done

if ((list)); then exit 0; fi
echo
echo "mutation results (details in $out_root/<scope>/mutants.out):"
if ((${#summary[@]} == 0)); then
    echo "  no scoped file changed${changed:+ in $changed}"
else
    printf '  %s\n' "${summary[@]}"
fi
((bad)) && exit 2
exit 0
