#!/usr/bin/env bash
# lab/smoke.sh - end-to-end check of a running lab (lab/lab.sh start) with curl.
#
# Proves what the dashboard relies on: password auth and project scoping, the
# two-region image catalog, Keystone auth actually enforced by both Glances
# (flavor=keystone fails open, FACTS §4.3), image + member creation, and
# RegionTwo's image_member_quota giving 413. Creates two images and deletes them
# again. Prints one line per check and a closing "N passed, N failed" line;
# exits non-zero if any check failed. Needs only bash, curl and the lab's venv
# python (for JSON), no jq.
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
env_text=$("$LAB_SRC/lab.sh" env) || exit 1
# lab.env is plain KEY=value lines without quoting
while IFS='=' read -r key value; do
    [[ $key =~ ^LAB_[A-Z0-9_]+$ ]] && printf -v "$key" '%s' "$value"
done <<<"$env_text"

PY=$LAB_VENV/bin/python
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }
check() { # description expected actual
    if [[ $2 == "$3" ]]; then ok "$1"; else bad "$1 (expected $2, got $3)"; fi
}
json() { # python expression over `d` (the JSON document on stdin)
    "$PY" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# request METHOD URL [TOKEN] [BODY] [CONTENT_TYPE] -> status code; body in $WORK/body, headers in $WORK/headers
request() {
    local -a args=(-s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' --max-time 60 -X "$1"
        -H 'Accept: application/json')
    [[ -n ${3:-} ]] && args+=(-H "X-Auth-Token: $3")
    [[ -n ${4:-} ]] && args+=(-H "Content-Type: ${5:-application/json}" --data "$4")
    curl "${args[@]}" "$2" || true
}

# token USER PASSWORD PROJECT -> prints the token; the token body stays in $WORK/token.json
token() {
    local body code
    body=$(printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"%s","domain":{"id":"default"},"password":"%s"}}},"scope":{"project":{"name":"%s","domain":{"id":"default"}}}}}' "$1" "$2" "$3")
    code=$(request POST "$LAB_KEYSTONE_URL/auth/tokens" "" "$body")
    cp "$WORK/body" "$WORK/token.json"
    [[ $code == 201 ]] || { echo "token for $1 on $3: HTTP $code" >&2; return 1; }
    tr -d '\r' <"$WORK/headers" | awk -F': ' 'tolower($1) == "x-subject-token" {print $2}'
}

# 1. password auth, project-scoped, and the catalog
if PRODUCER_TOKEN=$(token "$LAB_PRODUCER_USER" "$LAB_PRODUCER_PASSWORD" "$LAB_PRODUCER_PROJECT"); then
    ok "producer-user gets a producer-scoped token"
else
    bad "producer-user gets a producer-scoped token"
    echo "0 passed, 1 failed"
    exit 1
fi
check "token is scoped to the producer project" "$LAB_PRODUCER_PROJECT_ID" "$(json 'd["token"]["project"]["id"]' <"$WORK/token.json")"
catalog=$(json '",".join(sorted(e["region_id"] + "=" + e["url"] for s in d["token"]["catalog"] if s["type"] == "image" for e in s["endpoints"] if e["interface"] == "public"))' <"$WORK/token.json")
check "catalog has one public image endpoint per region" "$LAB_REGION=$LAB_GLANCE_URL,$LAB_REGION2=$LAB_GLANCE2_URL" "$catalog"
images_total=$(json 'sum(len(s["endpoints"]) for s in d["token"]["catalog"] if s["type"] == "image")' <"$WORK/token.json")
check "catalog has no other image endpoints" 2 "$images_total"

# 2. Keystone auth is enforced (flavor=keystone) on both Glances
for url in "$LAB_GLANCE_URL" "$LAB_GLANCE2_URL"; do
    check "unauthenticated GET $url/v2/images is rejected" 401 "$(request GET "$url/v2/images")"
done

# 3. an image on each Glance; members on the RegionTwo one up to its quota
declare -A image_ids=()
for url in "$LAB_GLANCE_URL" "$LAB_GLANCE2_URL"; do
    code=$(request POST "$url/v2/images" "$PRODUCER_TOKEN" \
        '{"name": "lab-smoke", "visibility": "shared", "disk_format": "raw", "container_format": "bare"}')
    check "producer creates an image on $url" 201 "$code"
    if [[ $code == 201 ]]; then
        image_ids[$url]=$(json 'd["id"]' <"$WORK/body")
    fi
done

if [[ -n ${image_ids[$LAB_GLANCE2_URL]:-} ]]; then
    img=${image_ids[$LAB_GLANCE2_URL]}
    for i in $(seq 1 "$LAB_REGION2_MEMBER_QUOTA"); do
        check "add member $i/$LAB_REGION2_MEMBER_QUOTA on $LAB_REGION2" 200 \
            "$(request POST "$LAB_GLANCE2_URL/v2/images/$img/members" "$PRODUCER_TOKEN" "{\"member\": \"smoke-member-$i\"}")"
    done
    check "member $((LAB_REGION2_MEMBER_QUOTA + 1)) on $LAB_REGION2 exceeds image_member_quota" 413 \
        "$(request POST "$LAB_GLANCE2_URL/v2/images/$img/members" "$PRODUCER_TOKEN" '{"member": "smoke-member-over"}')"
fi
if [[ -n ${image_ids[$LAB_GLANCE_URL]:-} ]]; then
    img=${image_ids[$LAB_GLANCE_URL]}
    check "add consumer as member on $LAB_REGION" 200 \
        "$(request POST "$LAB_GLANCE_URL/v2/images/$img/members" "$PRODUCER_TOKEN" "{\"member\": \"$LAB_CONSUMER_PROJECT_ID\"}")"
fi

# 4. consumer-user can scope to consumer and consumer-b
if CONSUMER_TOKEN=$(token "$LAB_CONSUMER_USER" "$LAB_CONSUMER_PASSWORD" "$LAB_CONSUMER_PROJECT"); then
    ok "consumer-user gets a consumer-scoped token"
    request GET "$LAB_KEYSTONE_URL/auth/projects" "$CONSUMER_TOKEN" >/dev/null
    check "consumer-user's projects are consumer and consumer-b" "$LAB_CONSUMER_PROJECT,$LAB_CONSUMER_B_PROJECT" \
        "$(json '",".join(sorted(p["name"] for p in d["projects"]))' <"$WORK/body")"
    if [[ -n ${image_ids[$LAB_GLANCE_URL]:-} ]]; then
        check "consumer sees the shared image (pending)" 200 \
            "$(request GET "$LAB_GLANCE_URL/v2/images/${image_ids[$LAB_GLANCE_URL]}" "$CONSUMER_TOKEN")"
    fi
else
    bad "consumer-user gets a consumer-scoped token"
fi
if token "$LAB_CONSUMER_USER" "$LAB_CONSUMER_PASSWORD" "$LAB_CONSUMER_B_PROJECT" >/dev/null; then
    ok "consumer-user gets a consumer-b-scoped token"
else
    bad "consumer-user gets a consumer-b-scoped token"
fi
if token "$LAB_PRODUCER_B_USER" "$LAB_PRODUCER_B_PASSWORD" "$LAB_PRODUCER_B_PROJECT" >/dev/null; then
    ok "producer-b-user gets a producer-b-scoped token"
else
    bad "producer-b-user gets a producer-b-scoped token"
fi
check "producer-user cannot scope to producer-b" 401 \
    "$(request POST "$LAB_KEYSTONE_URL/auth/tokens" "" "$(printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"%s","domain":{"id":"default"},"password":"%s"}}},"scope":{"project":{"name":"%s","domain":{"id":"default"}}}}}' "$LAB_PRODUCER_USER" "$LAB_PRODUCER_PASSWORD" "$LAB_PRODUCER_B_PROJECT")")"

# 5. clean up
for url in "${!image_ids[@]}"; do
    check "delete the smoke image on $url" 204 "$(request DELETE "$url/v2/images/${image_ids[$url]}" "$PRODUCER_TOKEN")"
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
