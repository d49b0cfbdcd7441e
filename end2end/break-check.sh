#!/usr/bin/env bash
# end2end/break-check.sh - shows that the browser tests notice a broken app, without touching
# src/ or rebuilding. Not part of the normal run; run it by hand after changing the suite.
#
# It copies the build under test (GLANCE_SHARE_BIN / GLANCE_SHARE_SITE, default ../target) to a
# temp dir, then runs a few specs, each time on a port and with an output dir and server log of
# its own (so a normal run going on meanwhile is not disturbed):
#
#   control  the intact copy, projects js and no-js          -> the specs must PASS
#   wasm     the site's hydrate bundle (pkg/glance-share.wasm) cut to its first 1000 bytes,
#            project js                                      -> the specs must FAIL
#   keystone the server started with a clouds.yaml whose Keystone (auth_url) is a closed port,
#            project no-js                                   -> the specs must FAIL
#
# Exits 0 only if the control passed and every test of both broken runs failed. The lab must
# be running (serve.sh starts it if not). Settings: GLANCE_SHARE_BREAK_PORT (default 3190),
# GLANCE_SHARE_BREAK_SPECS (default "tests/sign-in.spec.ts tests/image-share.spec.ts").
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
bin=${GLANCE_SHARE_BIN:-$root/target/release/glance-share}
site=${GLANCE_SHARE_SITE:-$root/target/site}
port=${GLANCE_SHARE_BREAK_PORT:-3190}
read -r -a specs <<<"${GLANCE_SHARE_BREAK_SPECS:-tests/sign-in.spec.ts tests/image-share.spec.ts}"
lab_dir=${GLANCE_SHARE_LAB_DIR:-$root/.lab}

fail() { printf 'break-check: %s\n' "$*" >&2; exit 2; }
[ -x "$bin" ] || fail "no server binary at $bin"
[ -f "$site/pkg/glance-share.wasm" ] || fail "no hydrate bundle in $site/pkg"
[ -f "$lab_dir/clouds.yaml" ] || fail "no $lab_dir/clouds.yaml: start the lab (lab/lab.sh start)"

work=$(mktemp -d /tmp/glance-share-break-check.XXXXXX)
printf 'break-check: working in %s\n' "$work"

# A copy: the tree's build may be replaced while this runs.
mkdir -p "$work/intact" "$work/broken-wasm"
cp "$bin" "$work/intact/glance-share"
cp -r "$site" "$work/intact/site"
cp -r "$site" "$work/broken-wasm/site"
head -c 1000 "$site/pkg/glance-share.wasm" >"$work/broken-wasm/site/pkg/glance-share.wasm"
# The build ships compressed copies beside it; the server would send those, intact.
rm -f "$work/broken-wasm/site/pkg/glance-share.wasm".{br,gz}

# serve.sh points OS_CLIENT_CONFIG_FILE at the lab's clouds.yaml and then runs the binary: a
# wrapper in its place swaps in a clouds.yaml whose auth_url is a port nothing listens on.
mkdir -p "$work/broken-keystone"
sed -E 's#(auth_url: *http://127\.0\.0\.1:)[0-9]+#\19#' "$lab_dir/clouds.yaml" >"$work/broken-keystone/clouds.yaml"
grep -q 'auth_url: http://127.0.0.1:9/' "$work/broken-keystone/clouds.yaml" || fail "could not rewrite auth_url in a copy of $lab_dir/clouds.yaml"
cat >"$work/broken-keystone/glance-share" <<EOF
#!/bin/sh
OS_CLIENT_CONFIG_FILE=$work/broken-keystone/clouds.yaml exec "$work/intact/glance-share" "\$@"
EOF
chmod +x "$work/broken-keystone/glance-share"

# run NAME BIN SITE PROJECT... : runs the specs; prints "expected unexpected skipped flaky errors".
run() {
    local name=$1 run_bin=$2 run_site=$3
    shift 3
    local projects=()
    for p in "$@"; do projects+=(--project "$p"); done
    printf '\n=== %s: %s, projects %s ===\n' "$name" "${specs[*]}" "$*"
    (
        cd "$here" &&
            GLANCE_SHARE_BIN=$run_bin GLANCE_SHARE_SITE=$run_site GLANCE_SHARE_E2E_PORT=$port \
                GLANCE_SHARE_E2E_LOG=$work/$name-server.log PLAYWRIGHT_JSON_OUTPUT_NAME=$work/$name.json CI= \
                npx playwright test "${specs[@]}" "${projects[@]}" --output "$work/$name-results" --reporter=list,json
    ) 2>&1 | grep -E '^\s+(✓|✘|-) |^\s+[0-9]+ (passed|failed|skipped|flaky)|Error:'
    node -e '
        const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const s = r.stats;
        console.log([s.expected, s.unexpected, s.skipped, s.flaky, (r.errors || []).length].join(" "));
    ' "$work/$name.json" >"$work/$name.stats" 2>/dev/null || echo "0 0 0 0 1" >"$work/$name.stats"
}

verdict=0
check() { # name want(pass|fail)
    local name=$1 want=$2 expected unexpected skipped flaky errors
    read -r expected unexpected skipped flaky errors <"$work/$name.stats"
    printf 'break-check: %-8s %s passed, %s failed, %s skipped, %s flaky, %s run errors' \
        "$name" "$expected" "$unexpected" "$skipped" "$flaky" "$errors"
    if [ "$want" = pass ] && [ "$errors" = 0 ] && [ "$unexpected" = 0 ] && [ "$flaky" = 0 ] && [ "$expected" -gt 0 ]; then
        printf ' -> passed, as it must\n'
    elif [ "$want" = fail ] && [ "$errors" = 0 ] && [ "$expected" = 0 ] && [ "$flaky" = 0 ] && [ "$unexpected" -gt 0 ]; then
        printf ' -> every test failed, as it must\n'
    else
        printf ' -> WRONG: it must %s (see %s)\n' "$want" "$work/$name-results"
        verdict=1
    fi
}

run control "$work/intact/glance-share" "$work/intact/site" js no-js
run wasm "$work/intact/glance-share" "$work/broken-wasm/site" js
run keystone "$work/broken-keystone/glance-share" "$work/intact/site" no-js

echo
check control pass
check wasm fail
check keystone fail
if [ "$verdict" = 0 ]; then
    echo 'break-check: OK - the specs pass on the intact build and fail on both broken ones'
else
    echo 'break-check: FAILED - see above'
fi
exit "$verdict"
