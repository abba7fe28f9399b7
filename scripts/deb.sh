#!/usr/bin/env bash
# Builds the Debian package with cargo-deb (metadata: `[package.metadata.deb]` in
# Cargo.toml, files under pkg/debian/) and, with --install, installs it on this machine
# with `dpkg -i`, as scripts/test.sh does before the test suite (tests/package.rs then
# checks the installed files, man -w, and a `list` from cron's environment).
#
# cargo-deb is installed (pinned, --locked) when missing or another version: about 1 to 3
# minutes on 2 cores, once per machine. The binary is stripped in the package (the release
# profile keeps line tables for profiling). Prints the path of the .deb last.
# Run as root for --install, on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DEB_VERSION=3.8.0
install=0
case "${1-}" in
--install) install=1 ;;
"") ;;
*)
    echo "usage: $0 [--install]" >&2
    exit 2
    ;;
esac

if [ "$(cargo deb --version 2>/dev/null)" != "cargo-deb $CARGO_DEB_VERSION" ]; then
    echo "deb: installing cargo-deb $CARGO_DEB_VERSION"
    cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked --quiet
fi

# The .deb's path is cargo-deb's last line on stdout.
deb=$(cargo deb --locked --strip --quiet | tail -n 1)
[ -f "$deb" ] || {
    echo "deb: cargo deb did not print a package path: $deb" >&2
    exit 1
}
if ((install)); then
    dpkg -i "$deb"
    echo "deb: installed $(dpkg-query -W -f='${Package} ${Version}' qsurgeon)"
fi
echo "$deb"
