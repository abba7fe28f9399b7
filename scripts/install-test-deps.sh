#!/usr/bin/env bash
# Installs what the real-Postfix test bed (tests/postfix/mod.rs) and the benchmarks need on
# Debian 12, as root: Debian's postfix, the Cyrus SASL tools and plugins (smtpd refuses to run
# with SASL enabled and no mechanism plugin), jq and hyperfine, python3-prometheus-client
# (the real Prometheus text parser that tests/monitor.rs reads `qsurgeon metrics` with), and
# what the installed Debian package is tested with (tests/package.rs): man-db for `man -w`,
# logrotate for its rule; zsh and fish, which triage's shell-quoting test pastes its command
# line into (src/commands/triage/flags.rs).
#
# Idempotent and non-interactive: packages already installed are left alone, and `apt-get
# update` runs once, only when something has to be installed. The system Postfix instance is
# installed but never started by this script (a temporary policy-rc.d refuses service starts);
# the tests run their own instances (see shared/docs/postfix-test-instance.md).
set -euo pipefail

PACKAGES=(postfix sasl2-bin libsasl2-modules jq hyperfine tmux time python3-prometheus-client logrotate man-db zsh fish)

die() {
    echo "install-test-deps: error: $*" >&2
    exit 1
}

is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

[ "$(id -u)" -eq 0 ] || die "must run as root (apt-get install)"
command -v apt-get >/dev/null && command -v dpkg-query >/dev/null ||
    die "apt-get/dpkg-query not found: this script supports Debian (12) only"

missing=()
for pkg in "${PACKAGES[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-test-deps: all present: ${PACKAGES[*]}"
else
    echo "install-test-deps: installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Without a preseed, postfix's postinst asks for the mail server type.
    debconf-set-selections <<'EOF' || die "debconf-set-selections failed"
postfix postfix/main_mailer_type select Local only
postfix postfix/mailname string qsurgeon-test.invalid
EOF
    # Keep the system instance from being started by the postinst (the tests never use it).
    # An existing policy-rc.d belongs to the machine: leave it as it is.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    apt-get update -q || die "apt-get update failed"
    apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        die "apt-get install ${missing[*]} failed"
fi

# Check that what the tests call is really there.
for cmd in postconf postfix postsuper postqueue postcat sendmail saslpasswd2 jq hyperfine tmux man logrotate; do
    command -v "$cmd" >/dev/null || [ -x "/usr/sbin/$cmd" ] ||
        die "$cmd not found after installation"
done
/usr/bin/python3 -c 'import prometheus_client.parser' ||
    die "python3-prometheus-client not importable by /usr/bin/python3"
ls /usr/lib/*/sasl2/libplain.so* >/dev/null 2>&1 ||
    die "no Cyrus SASL PLAIN plugin (libsasl2-modules) found"
echo "install-test-deps: ok: postfix $(/usr/sbin/postconf -dh mail_version)"
