#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs Debian's Postfix when missing
# (scripts/install-test-deps.sh), checks formatting and lints, builds and installs the
# Debian package (scripts/deb.sh), then runs every test with the real-Postfix and
# package tests required (they fail, not skip, without them).
# Run as root on Debian 12: the tests start isolated Postfix instances.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# The benchmark as a smoke test (issue 5): every comparison runs once on a
# generated 10k-message queue and the ratios are computed; no timing is
# asserted (speed goals live in BENCHMARKS.md, not in tests). Postfix's
# daemons must be able to traverse the directory (mktemp makes it 0700).
bench_data=$(mktemp -d)
chmod 0755 "$bench_data"
trap 'rm -rf "$bench_data"' EXIT
BENCH_DATA="$bench_data" bash bench/run.sh --smoke

# The Debian package (issue 12): built by cargo-deb from the release build and installed
# on this machine with dpkg -i; tests/package.rs then checks what dpkg installed (man -w,
# the completions, the cron and logrotate files, a `list` from cron's environment).
bash scripts/deb.sh --install
export QSURGEON_REQUIRE_PACKAGE=1

# Last, so that cargo's closing lines end the output.
export QSURGEON_REQUIRE_POSTFIX=1
cargo test --workspace --locked
