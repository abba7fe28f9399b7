#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs Debian's Postfix when missing
# (scripts/install-test-deps.sh), checks formatting and lints, then runs every
# test with the real-Postfix tests required (they fail, not skip, without it).
# Run as root on Debian 12: the tests start isolated Postfix instances.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
export QSURGEON_REQUIRE_POSTFIX=1
cargo test --workspace --locked
