#!/usr/bin/env bash
# Playwright's webServer: makes sure the local Keystone + Glance lab runs, then runs the release
# server binary on 127.0.0.1:$GLANCE_SHARE_E2E_PORT with in-memory sessions and the lab's clouds.
# Its log goes to $GLANCE_SHARE_E2E_LOG (default end2end/logs/server.log).
# With GLANCE_SHARE_E2E_DIRECTORY=1 the server also gets the lab's directory reader (project
# names, issue 14: GLANCE_SHARE_DIRECTORY_USER and _PASSWORD_FILE from lab.env), and its log
# defaults to logs/server-directory.log (or $GLANCE_SHARE_E2E_LOG with -directory before .log).
# Without it, no GLANCE_SHARE_DIRECTORY_* setting reaches the server.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

bin=${GLANCE_SHARE_BIN:-$root/target/release/glance-share}
site=${GLANCE_SHARE_SITE:-$root/target/site}
port=${GLANCE_SHARE_E2E_PORT:-3100}
log=${GLANCE_SHARE_E2E_LOG:-$here/logs/server.log}
lab_dir=${GLANCE_SHARE_LAB_DIR:-$root/.lab}
directory=${GLANCE_SHARE_E2E_DIRECTORY:-0}
case $directory in
0 | '') directory=0 ;;
1) log=${log%.log}-directory.log ;;
*) printf 'end2end/serve.sh: GLANCE_SHARE_E2E_DIRECTORY must be 0 or 1, not %s\n' "$directory" >&2; exit 1 ;;
esac

fail() { printf 'end2end/serve.sh: %s\n' "$*" >&2; exit 1; }
[ -x "$bin" ] || fail "no server binary at $bin: build it (scripts/build) or set GLANCE_SHARE_BIN"
[ -f "$site/pkg/glance-share.js" ] || fail "no hydrate bundle in $site/pkg: build it (scripts/build) or set GLANCE_SHARE_SITE"

# Idempotent: seconds when the lab already runs. Its progress goes to stderr, lab.env to /dev/null.
"$root/lab/lab.sh" start >/dev/null || fail "lab/lab.sh start failed (logs in $lab_dir/log/)"
[ -f "$lab_dir/clouds.yaml" ] || fail "the lab wrote no $lab_dir/clouds.yaml"

# lab_var NAME: one value of lab.env (read, not sourced: only what is asked for).
lab_var() {
    local value
    value=$(sed -n "s/^$1=//p" "$lab_dir/lab.env" | tail -n 1)
    [ -n "$value" ] || fail "$1 is missing from $lab_dir/lab.env (lab/lab.sh start sets it up)"
    printf '%s' "$value"
}

mkdir -p "$(dirname "$log")"
with=
[ "$directory" = 1 ] && with=' with the directory reader'
printf 'end2end/serve.sh: %s with site %s on 127.0.0.1:%s%s; log in %s\n' "$bin" "$site" "$port" "$with" "$log" >&2

export LEPTOS_SITE_ROOT=$site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=glance-share
export LEPTOS_SITE_ADDR=127.0.0.1:$port
export GLANCE_SHARE_LISTEN=127.0.0.1:$port
export GLANCE_SHARE_SESSION_STORE=memory GLANCE_SHARE_AUDIT_LOG=memory
# The suite signs the same lab users in many times a minute from one address; the limits
# themselves are tested in tests/sign_in.rs.
export GLANCE_SHARE_SIGN_INS_PER_CLIENT_MINUTE=100000 GLANCE_SHARE_SIGN_INS_PER_USER_MINUTE=100000
export OS_CLIENT_CONFIG_FILE=$lab_dir/clouds.yaml
export RUST_LOG=${RUST_LOG:-info} NO_COLOR=1
# Only the lab's clouds.yaml: a developer's own OS_* or dashboard settings must not leak in.
for v in $(compgen -e | grep -E '^OS_' | grep -vx OS_CLIENT_CONFIG_FILE); do unset "$v"; done
unset GLANCE_SHARE_PUBLIC_URL GLANCE_SHARE_CLOUDS GLANCE_SHARE_SECURE_COOKIES
# Nor the operator's directory settings: the tests assert what a server with or without the
# lab's directory reader does, nothing in between.
for v in $(compgen -e | grep -E '^GLANCE_SHARE_DIRECTORY_'); do unset "$v"; done
if [ "$directory" = 1 ]; then
    password_file=$(lab_var LAB_DIRECTORY_PASSWORD_FILE)
    [ -r "$password_file" ] || fail "the directory reader's password file $password_file is not readable"
    GLANCE_SHARE_DIRECTORY_USER=$(lab_var LAB_DIRECTORY_USER)
    export GLANCE_SHARE_DIRECTORY_USER GLANCE_SHARE_DIRECTORY_PASSWORD_FILE=$password_file
fi

# Not exec: when the server dies early, show why. Playwright stops the whole process group.
"$bin" >"$log" 2>&1 &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"; exit 0' TERM INT
set +e
wait "$pid"
rc=$?
set -e
printf 'end2end/serve.sh: the server exited with status %s; the end of %s:\n' "$rc" "$log" >&2
tail -n 30 "$log" >&2
exit "$rc"
