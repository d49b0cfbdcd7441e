#!/usr/bin/env bash
# lab/lab.sh - a real OpenStack Keystone + two Glance API servers on 127.0.0.1
# for developing, demoing and testing glance-share.
#
#   lab/lab.sh install       create <state>/venv with the pinned packages (lab/constraints.txt)
#   lab/lab.sh start         install if needed, set up on first start, start everything,
#                            print <state>/lab.env on stdout (idempotent)
#   lab/lab.sh stop          stop the services this script started (by pid file), MariaDB last
#   lab/lab.sh status        show what runs; exit 0 if all up, 3 otherwise
#   lab/lab.sh env           print <state>/lab.env
#   lab/lab.sh reset         stop and delete the state dir except the venv
#   lab/lab.sh stop-glance   stop only the RegionOne Glance (simulate "Glance down")
#   lab/lab.sh start-glance  start it again
#
# Services (all bound to 127.0.0.1 only):
#   keystone  :5000  (LAB_KEYSTONE_PORT)  identity, region RegionOne
#   glance    :9292  (LAB_GLANCE_PORT)    image, region RegionOne, image_member_quota 128 (default)
#   glance2   :9293  (LAB_GLANCE2_PORT)   image, region RegionTwo, image_member_quota 3
#                                         (LAB_REGION_TWO_MEMBER_QUOTA), own DB and store
#   mariadb   :3399  (LAB_MARIADB_PORT)   both Glances' databases, as production Glance runs on
#                                         MySQL/MariaDB; Debian's mariadb-server (scripts/setup)
# Each Glance runs LAB_GLANCE_PROCESSES uWSGI processes (default 4; glance2 half of them), one
# request at a time each, as production runs several API workers. Keystone keeps SQLite.
# State dir: $GLANCE_SHARE_LAB_DIR, default <project root>/.lab. Logs: <state>/log/*.log.
# "FACTS" below refers to shared/glance-lab/FACTS.md, where the quirks were measured.

set -euo pipefail

# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------
LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PROJECT_ROOT=$(dirname "$LAB_SRC")
STATE=${GLANCE_SHARE_LAB_DIR:-$PROJECT_ROOT/.lab}
[[ $STATE == /* ]] || STATE=$PWD/$STATE

KEYSTONE_PORT=${LAB_KEYSTONE_PORT:-5000}
GLANCE_PORT=${LAB_GLANCE_PORT:-9292}
GLANCE2_PORT=${LAB_GLANCE2_PORT:-9293}
MARIADB_PORT=${LAB_MARIADB_PORT:-3399}
GLANCE_PROCESSES=${LAB_GLANCE_PROCESSES:-4}
REGION_ONE=RegionOne
REGION_TWO=RegionTwo
REGION_ONE_MEMBER_QUOTA=128 # Glance's default image_member_quota, not set in its config
REGION_TWO_MEMBER_QUOTA=${LAB_REGION_TWO_MEMBER_QUOTA:-3}

ADMIN_USER="admin"
ADMIN_PROJECT="admin"
ADMIN_PASSWORD=${LAB_ADMIN_PASSWORD:-admin-secret}
GLANCE_SERVICE_PASSWORD=${LAB_GLANCE_SERVICE_PASSWORD:-glance-service-secret}
GLANCE_DB_PASSWORD=${LAB_GLANCE_DB_PASSWORD:-glance-db-secret}
PRODUCER_USER=producer-user
PRODUCER_PASSWORD=${LAB_PRODUCER_PASSWORD:-producer-secret}
PRODUCER_PROJECT=producer
CONSUMER_USER=consumer-user
CONSUMER_PASSWORD=${LAB_CONSUMER_PASSWORD:-consumer-secret}
CONSUMER_PROJECT=consumer
CONSUMER_B_PROJECT=consumer-b
PRODUCER_B_USER=producer-b-user
PRODUCER_B_PASSWORD=${LAB_PRODUCER_B_PASSWORD:-producer-b-secret}
PRODUCER_B_PROJECT=producer-b
# glance-share's directory credential (reader at system scope and on domain partners, no
# project: see bootstrap.py). Its password also goes to DIRECTORY_PASSWORD_FILE: the app
# reads secrets from files only.
DIRECTORY_USER=directory
DIRECTORY_PASSWORD=${LAB_DIRECTORY_PASSWORD:-directory-secret}
# A second domain, and a project name that exists in both (see bootstrap.py).
PARTNERS_DOMAIN=partners
PARTNER_ONE_PROJECT=partner-one
TWIN_PROJECT=twin

START_TIMEOUT=${LAB_START_TIMEOUT:-180}      # seconds for a service to answer
STOP_TIMEOUT=${LAB_STOP_TIMEOUT:-20}         # seconds of graceful stop before SIGKILL
SETUP_TIMEOUT=${LAB_SETUP_TIMEOUT:-600}      # per keystone-manage / glance-manage call
INSTALL_TIMEOUT=${LAB_INSTALL_TIMEOUT:-1800} # pip install
LOCK_TIMEOUT=${LAB_LOCK_TIMEOUT:-2400}       # another lab.sh holding the lock (may be installing)

# PyMySQL: Glance's MariaDB driver (SQLAlchemy's mysql+pymysql://).
PACKAGES=(keystone==30.0.0 glance==33.0.0 keystonemiddleware uwsgi python-openstackclient==10.5.0 PyMySQL)
CONSTRAINTS=$LAB_SRC/constraints.txt

VENV=$STATE/venv
LOG_DIR=$STATE/log
RUN_DIR=$STATE/run
STAMP_DIR=$STATE/stamps
KEYSTONE_DIR=$STATE/keystone
MARIADB_DIR=$STATE/mariadb
LAB_ENV=$STATE/lab.env
IDS_ENV=$STATE/ids.env
CLOUDS_YAML=$STATE/clouds.yaml
DIRECTORY_PASSWORD_FILE=$STATE/directory-password

SERVICES=(keystone glance glance2)
LAUNCHED=() # services this invocation started; stopped again if it fails

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
log() { printf 'lab: %s\n' "$*" >&2; }
die() {
    printf 'lab: ERROR: %s\n' "$*" >&2
    exit 1
}

# Show the end of a log file on stderr (used on every failure path).
log_tail() {
    local file=$1 lines=${2:-40}
    if [[ -s $file ]]; then
        printf -- '----- last %s lines of %s -----\n' "$lines" "$file" >&2
        tail -n "$lines" "$file" >&2 || true
        printf -- '-----\n' >&2
    fi
}

now_ms() { date +%s%3N; }
elapsed() { # start_ms -> "12.3s"
    local d=$(($(now_ms) - $1))
    printf '%d.%ds' $((d / 1000)) $(((d % 1000) / 100))
}

validate_settings() {
    local v
    for v in KEYSTONE_PORT GLANCE_PORT GLANCE2_PORT MARIADB_PORT GLANCE_PROCESSES REGION_TWO_MEMBER_QUOTA \
        START_TIMEOUT STOP_TIMEOUT SETUP_TIMEOUT INSTALL_TIMEOUT LOCK_TIMEOUT; do
        [[ ${!v} =~ ^[0-9]+$ ]] || die "LAB_$v must be a number, got '${!v}'"
    done
    [[ $(printf '%s\n' "$KEYSTONE_PORT" "$GLANCE_PORT" "$GLANCE2_PORT" "$MARIADB_PORT" | sort -u | wc -l) == 4 ]] ||
        die "LAB_KEYSTONE_PORT, LAB_GLANCE_PORT, LAB_GLANCE2_PORT and LAB_MARIADB_PORT must differ"
    ((GLANCE_PROCESSES >= 1)) || die "LAB_GLANCE_PROCESSES must be at least 1"
    # lab.env is unquoted KEY=value (easy to parse anywhere) and oslo.config
    # interpolates '$', so keep passwords and paths to a safe alphabet.
    for v in ADMIN_PASSWORD GLANCE_SERVICE_PASSWORD GLANCE_DB_PASSWORD PRODUCER_PASSWORD CONSUMER_PASSWORD \
        PRODUCER_B_PASSWORD DIRECTORY_PASSWORD; do
        [[ ${!v} =~ ^[A-Za-z0-9._~+@%:,=-]+$ ]] || die "LAB_$v may only contain letters, digits and ._~+@%:,=-"
    done
    [[ $STATE =~ ^[A-Za-z0-9._/+@:,=-]+$ ]] || die "state dir '$STATE' must not contain spaces or special characters (set GLANCE_SHARE_LAB_DIR)"
}

require_tools() {
    local t
    for t in curl sha256sum flock timeout setsid; do
        command -v "$t" >/dev/null 2>&1 || die "'$t' is required but not installed"
    done
    for t in mariadbd mariadb-install-db mariadb mariadb-admin; do
        mariadb_tool "$t" >/dev/null || die "'$t' is required but not installed (apt-get install mariadb-server; scripts/setup does)"
    done
}

# MariaDB's server lives in /usr/sbin, often not on a user's PATH.
mariadb_tool() {
    local t=$1 d
    for d in "" /usr/sbin/ /usr/bin/; do
        if [[ -z $d ]] && command -v "$t" >/dev/null 2>&1; then
            command -v "$t"
            return 0
        elif [[ -n $d && -x $d$t ]]; then
            echo "$d$t"
            return 0
        fi
    done
    return 1
}

keystone_url() { echo "http://127.0.0.1:$KEYSTONE_PORT/v3"; }

svc_port() {
    case $1 in
    keystone) echo "$KEYSTONE_PORT" ;;
    glance) echo "$GLANCE_PORT" ;;
    glance2) echo "$GLANCE2_PORT" ;;
    *) die "unknown service $1" ;;
    esac
}
svc_port_var() {
    case $1 in
    keystone) echo LAB_KEYSTONE_PORT ;;
    glance) echo LAB_GLANCE_PORT ;;
    glance2) echo LAB_GLANCE2_PORT ;;
    esac
}
svc_region() { case $1 in glance2) echo "$REGION_TWO" ;; *) echo "$REGION_ONE" ;; esac }
svc_pidfile() { echo "$RUN_DIR/$1.pid"; }
svc_log() { echo "$LOG_DIR/$1.log"; }

# URL + expected status proving the *application* (not just uWSGI's socket) is loaded:
# with --lazy-apps the socket accepts connections before the app is imported.
svc_probe() {
    local port
    port=$(svc_port "$1")
    case $1 in
    keystone) echo "http://127.0.0.1:$port/v3 200" ;;
    *) echo "http://127.0.0.1:$port/healthcheck 200" ;;
    esac
}

http_code() { # url [max_time] -> prints status code, 000 if no HTTP answer
    curl -s -o /dev/null -w '%{http_code}' --max-time "${2:-3}" "$1" 2>/dev/null || true
}

svc_answers() {
    local url want code
    read -r url want <<<"$(svc_probe "$1")"
    code=$(http_code "$url")
    [[ $code == "$want" ]]
}

# True if something accepts TCP connections on the port (curl exit 7 = refused).
port_in_use() {
    local rc=0
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null || rc=$?
    [[ $rc -ne 7 ]]
}

# Alive and not a zombie (a dead daemon we spawned stays a zombie until we exit).
pid_alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# The pid in the service's pid file, if that process is alive and runs our venv's
# uWSGI binary; guards against a recycled pid. (Its command line is no help:
# --procname-prefix-spaced rewrites it to "glance-share-lab-<name> uWSGI master".)
svc_pid() {
    local pidfile pid exe
    pidfile=$(svc_pidfile "$1")
    [[ -f $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    pid_alive "$pid" || return 1
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    [[ $exe == "$VENV/bin/uwsgi" ]] || return 1
    echo "$pid"
}

svc_up() { svc_pid "$1" >/dev/null && svc_answers "$1"; }

# Serialize start/stop/reset/install between concurrent invocations (e.g. parallel
# test runners). The fd is closed again for every daemon we spawn (see launch).
take_lock() {
    mkdir -p "$STATE"
    exec 9>"$STATE/.lock"
    if ! flock -n 9; then
        log "waiting for another lab.sh (lock $STATE/.lock, up to ${LOCK_TIMEOUT}s)"
        flock -w "$LOCK_TIMEOUT" 9 || die "timed out waiting for the lock $STATE/.lock"
    fi
}

# Run a venv command with our environment only: a PYTHONPATH/PYTHONHOME from the
# caller would mix foreign packages into the services.
venv_run() { env -u PYTHONPATH -u PYTHONHOME "$@"; }

# ---------------------------------------------------------------------------
# install
# ---------------------------------------------------------------------------
install_fingerprint() {
    { cat "$CONSTRAINTS"; printf '%s\n' "${PACKAGES[@]}" "$VENV"; } | sha256sum | cut -d' ' -f1
}

installed_ok() {
    local stamp=$VENV/.lab-install-stamp
    [[ -f $stamp && $(<"$stamp") == "$(install_fingerprint)" ]] || return 1
    local b
    for b in python uwsgi keystone-manage glance-manage openstack; do
        [[ -x $VENV/bin/$b ]] || return 1
    done
    # A venv whose base interpreter vanished (pyenv upgrade) still has the files.
    "$VENV/bin/python" -c '' >/dev/null 2>&1
}

pick_python() {
    local cand
    for cand in "${LAB_PYTHON:-}" python3.11 python3.12 python3.13 python3; do
        [[ -n $cand ]] || continue
        command -v "$cand" >/dev/null 2>&1 || continue
        # keystone 30 / glance 33 declare Requires-Python >= 3.11 (FACTS §2)
        if "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            command -v "$cand"
            return 0
        fi
    done
    return 1
}

cmd_install() {
    [[ -f $CONSTRAINTS ]] || die "missing $CONSTRAINTS"
    installed_ok && return 0

    local py t0 install_log=$LOG_DIR/install.log
    mkdir -p "$LOG_DIR"
    py=$(pick_python) || die "Python >= 3.11 is required (set LAB_PYTHON=/path/to/python3.11)"
    # uWSGI has no wheels on PyPI: pip compiles it, which needs a C compiler and Python.h.
    command -v gcc >/dev/null 2>&1 || command -v cc >/dev/null 2>&1 ||
        die "a C compiler (gcc) is required to build uWSGI (apt-get install gcc)"
    "$py" -c 'import os, sys, sysconfig; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)' ||
        die "Python headers (Python.h) for $py are missing; they are needed to build uWSGI (apt-get install python3-dev)"

    t0=$(now_ms)
    log "installing Keystone + Glance into $VENV (one-time, takes a few minutes; log: $install_log)"
    {
        echo "=== $(date -u +%FT%TZ) install with $py ($("$py" --version 2>&1))"
    } >>"$install_log"
    if [[ -d $VENV ]] && ! "$VENV/bin/python" -c '' >/dev/null 2>&1; then
        echo "venv at $VENV is broken, recreating" >>"$install_log"
        rm -rf "$VENV"
    fi
    if [[ ! -x $VENV/bin/python ]]; then
        "$py" -m venv "$VENV" >>"$install_log" 2>&1 || {
            log_tail "$install_log"
            die "could not create a virtualenv with $py"
        }
    fi
    rm -f "$VENV/.lab-install-stamp"
    if ! timeout "$INSTALL_TIMEOUT" env -u PYTHONPATH -u PYTHONHOME PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
        "$VENV/bin/python" -m pip install --no-input -c "$CONSTRAINTS" "${PACKAGES[@]}" \
        </dev/null >>"$install_log" 2>&1; then
        log_tail "$install_log" 60
        die "pip install failed (full log: $install_log)"
    fi
    install_fingerprint >"$VENV/.lab-install-stamp"
    log "installed in $(elapsed "$t0")"
}

# ---------------------------------------------------------------------------
# configuration (rewritten on every start: cheap, and picks up changed ports/quota)
# ---------------------------------------------------------------------------
write_keystone_config() {
    mkdir -p "$KEYSTONE_DIR"
    cat >"$KEYSTONE_DIR/keystone.conf" <<EOF
# generated by lab/lab.sh - edits are overwritten on the next start
[DEFAULT]
debug = false
use_stderr = true

# Parallel tests sign in concurrently: wait for SQLite's write lock instead of failing with
# "database is locked" (a 500 from Keystone).
[database]
connection = sqlite:///$KEYSTONE_DIR/keystone.db?timeout=30

[token]
provider = fernet

[fernet_tokens]
key_repository = $KEYSTONE_DIR/fernet-keys

[fernet_receipts]
key_repository = $KEYSTONE_DIR/fernet-keys

[credential]
key_repository = $KEYSTONE_DIR/credential-keys

# Without a cache every token validation runs ~350 SQL statements (~0.8 s on
# SQLite), so Glance's first call per token took ~1 s (FACTS §4.8). An in-process
# cache is fine for a single-process server.
[cache]
enabled = true
backend = dogpile.cache.memory

# bcrypt cost 12 costs ~0.5 s per password auth; 72 is bcrypt's real maximum
# (the default 4096 logs "Truncating password" on every check) (FACTS §4.8).
[identity]
password_hash_rounds = 4
max_password_length = 72
EOF
}

glance_dir() { echo "$STATE/$1"; } # glance -> <state>/glance, glance2 -> <state>/glance2
glance_database() { echo "$1"; }     # glance -> database glance, glance2 -> database glance2

write_glance_config() {
    local name=$1 dir quota_line=""
    dir=$(glance_dir "$name")
    mkdir -p "$dir/images" "$dir/staging" "$dir/tasks" "$dir/lock"
    if [[ $name == glance2 ]]; then
        quota_line="image_member_quota = $REGION_TWO_MEMBER_QUOTA"
    fi
    # Glance only reads the paste file it is pointed at; copy the packaged one.
    cp "$VENV/etc/glance/glance-api-paste.ini" "$dir/glance-api-paste.ini"
    cat >"$dir/glance-api.conf" <<EOF
# generated by lab/lab.sh - edits are overwritten on the next start
# Glance $name: region $(svc_region "$name"), port $(svc_port "$name")
[DEFAULT]
debug = false
use_stderr = true
enabled_backends = fs:file
$quota_line

[database]
connection = mysql+pymysql://glance:$GLANCE_DB_PASSWORD@127.0.0.1:$MARIADB_PORT/$(glance_database "$name")?charset=utf8mb4

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = $dir/images/

# With enabled_backends set, Glance always adds these two reserved file stores;
# their default dirs are under /var/lib/glance, outside the state dir (FACTS §4.5).
[os_glance_staging_store]
filesystem_store_datadir = $dir/staging/

[os_glance_tasks_store]
filesystem_store_datadir = $dir/tasks/

# flavor=keystone is mandatory: without it the pipeline uses
# unauthenticated-context and every request is an anonymous admin, silently
# (FACTS §4.3). lab.sh verifies a 401 after start.
[paste_deploy]
flavor = keystone
config_file = $dir/glance-api-paste.ini

# The glance user needs role 'service' for identity:validate_token (FACTS §4.4).
[keystone_authtoken]
auth_type = password
auth_url = http://127.0.0.1:$KEYSTONE_PORT
www_authenticate_uri = http://127.0.0.1:$KEYSTONE_PORT
username = glance
password = $GLANCE_SERVICE_PASSWORD
project_name = service
user_domain_name = Default
project_domain_name = Default
token_cache_time = 300

[oslo_concurrency]
lock_path = $dir/lock
EOF
}

write_configs() {
    write_keystone_config
    write_glance_config glance
    write_glance_config glance2
}

# ---------------------------------------------------------------------------
# one-time setup (each step guarded by a stamp so restarts take seconds)
# ---------------------------------------------------------------------------
stamp_ok() { [[ -f $STAMP_DIR/$1 && $(<"$STAMP_DIR/$1") == "$2" ]]; }
stamp_write() { mkdir -p "$STAMP_DIR" && printf '%s\n' "$2" >"$STAMP_DIR/$1"; }
install_hash() { cat "$VENV/.lab-install-stamp" 2>/dev/null || echo none; }

keystone_setup_key() {
    printf '%s\n' "$(install_hash)" "$KEYSTONE_PORT" "$ADMIN_PASSWORD" | sha256sum | cut -d' ' -f1
}

keystone_setup_needed() {
    ! stamp_ok keystone "$(keystone_setup_key)" ||
        [[ ! -f $KEYSTONE_DIR/keystone.db || ! -f $KEYSTONE_DIR/fernet-keys/0 || ! -f $KEYSTONE_DIR/credential-keys/0 ]]
}

setup_keystone() { # runs in the background during start; output goes to its log
    local slog=$LOG_DIR/setup-keystone.log
    local kman=("$VENV/bin/keystone-manage" --config-file "$KEYSTONE_DIR/keystone.conf")
    local user group url
    user=$(id -un)
    group=$(id -gn)
    url=$(keystone_url)
    {
        echo "=== $(date -u +%FT%TZ) keystone setup"
        # A new keystone DB means the REST bootstrap has to run again.
        rm -f "$STAMP_DIR/rest"
        set -x
        timeout "$SETUP_TIMEOUT" "${kman[@]}" db_sync
        # --keystone-user/group: we are not the 'keystone' system user (FACTS §4.9)
        timeout "$SETUP_TIMEOUT" "${kman[@]}" fernet_setup --keystone-user "$user" --keystone-group "$group"
        timeout "$SETUP_TIMEOUT" "${kman[@]}" credential_setup --keystone-user "$user" --keystone-group "$group"
        # world-readable key dirs make Keystone log a warning on every request (FACTS §4.9)
        chmod 700 "$KEYSTONE_DIR/fernet-keys" "$KEYSTONE_DIR/credential-keys"
        timeout "$SETUP_TIMEOUT" "${kman[@]}" bootstrap \
            --bootstrap-username "$ADMIN_USER" \
            --bootstrap-password "$ADMIN_PASSWORD" \
            --bootstrap-project-name "$ADMIN_PROJECT" \
            --bootstrap-role-name admin \
            --bootstrap-service-name keystone \
            --bootstrap-region-id "$REGION_ONE" \
            --bootstrap-admin-url "$url" \
            --bootstrap-internal-url "$url" \
            --bootstrap-public-url "$url"
        set +x
    } </dev/null >>"$slog" 2>&1
    stamp_write keystone "$(keystone_setup_key)"
}

# The stamp is written only after db_sync, and MariaDB's data dir holds the databases.
glance_setup_key() { printf '%s\n' "$(install_hash)" mariadb "$MARIADB_PORT" | sha256sum | cut -d' ' -f1; }
glance_setup_needed() { ! stamp_ok "$1" "$(glance_setup_key)" || [[ ! -f $MARIADB_DIR/$(glance_database "$1")/images.frm ]]; }

setup_glance() { # name
    local name=$1 dir slog=$LOG_DIR/setup-$1.log
    dir=$(glance_dir "$name")
    {
        echo "=== $(date -u +%FT%TZ) glance db sync ($name)"
        timeout "$SETUP_TIMEOUT" "$VENV/bin/glance-manage" --config-file "$dir/glance-api.conf" db_sync
    } </dev/null >>"$slog" 2>&1
    stamp_write "$name" "$(glance_setup_key)"
}

# Run setup steps that are due, in parallel (they are independent; keystone-manage
# db_sync dominates at ~10 s, FACTS §3). Fails with the step's log tail.
run_setup() {
    local -a pids=() names=()
    local i rc=0 t0
    t0=$(now_ms)
    if keystone_setup_needed; then
        log "first start: setting up Keystone (db_sync, fernet keys, bootstrap)"
        setup_keystone &
        pids+=($!)
        names+=(keystone)
    fi
    for name in glance glance2; do
        if glance_setup_needed "$name"; then
            log "setting up Glance database ($name)"
            setup_glance "$name" &
            pids+=($!)
            names+=("$name")
        fi
    done
    [[ ${#pids[@]} -gt 0 ]] || return 0
    for i in "${!pids[@]}"; do
        if ! wait "${pids[$i]}"; then
            rc=1
            log_tail "$LOG_DIR/setup-${names[$i]}.log"
            log "setup of ${names[$i]} failed (log: $LOG_DIR/setup-${names[$i]}.log)"
        fi
    done
    [[ $rc -eq 0 ]] || die "one-time setup failed"
    log "setup done in $(elapsed "$t0")"
}

rest_bootstrap_key() {
    {
        cat "$LAB_SRC/bootstrap.py"
        printf '%s\n' "$(cat "$STAMP_DIR/keystone" 2>/dev/null)" "$KEYSTONE_PORT" "$GLANCE_PORT" "$GLANCE2_PORT" \
            "$ADMIN_PASSWORD" "$GLANCE_SERVICE_PASSWORD" "$PRODUCER_PASSWORD" "$CONSUMER_PASSWORD" "$PRODUCER_B_PASSWORD" \
            "$DIRECTORY_PASSWORD"
    } | sha256sum | cut -d' ' -f1
}

# Keystone loads its policy rules at the first request that needs them. Two requests that reach
# a cold Keystone together (Glance's workers validating their first tokens at once, right after
# a start) were seen to race that: one was answered 403 "not authorized to perform the requested
# action: identity:validate_token", and Glance answered the user's call 401 (the first image a
# test created failed now and then). One validation alone, before anyone else asks, loads them.
warm_keystone() {
    local token code body
    body=$(printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"glance","domain":{"name":"Default"},"password":"%s"}}},"scope":{"project":{"name":"service","domain":{"name":"Default"}}}}}' "$GLANCE_SERVICE_PASSWORD")
    token=$(curl -s -D - -o /dev/null --max-time 30 -H 'Content-Type: application/json' -d "$body" \
        "$(keystone_url)/auth/tokens" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-subject-token" { print $2 }')
    [[ -n $token ]] || die "keystone gave the glance service user no token"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H "X-Auth-Token: $token" \
        -H "X-Subject-Token: $token" "$(keystone_url)/auth/tokens")
    [[ $code == 200 ]] || die "keystone answered $code when the glance service user validated a token"
}

# Projects, users, roles, RegionTwo and the image catalog through Keystone's REST API.
rest_bootstrap() {
    local key slog=$LOG_DIR/setup-rest.log t0
    key=$(rest_bootstrap_key)
    if stamp_ok rest "$key" && [[ -s $IDS_ENV ]]; then
        return 0
    fi
    t0=$(now_ms)
    log "bootstrapping projects, users and catalog via the Keystone API"
    if ! venv_run \
        LAB_KEYSTONE_URL="$(keystone_url)" \
        LAB_ADMIN_USER="$ADMIN_USER" LAB_ADMIN_PASSWORD="$ADMIN_PASSWORD" LAB_ADMIN_PROJECT="$ADMIN_PROJECT" \
        LAB_REGION="$REGION_ONE" LAB_REGION2="$REGION_TWO" \
        LAB_GLANCE_URL="http://127.0.0.1:$GLANCE_PORT" LAB_GLANCE2_URL="http://127.0.0.1:$GLANCE2_PORT" \
        LAB_GLANCE_SERVICE_PASSWORD="$GLANCE_SERVICE_PASSWORD" \
        LAB_PRODUCER_USER="$PRODUCER_USER" LAB_PRODUCER_PASSWORD="$PRODUCER_PASSWORD" LAB_PRODUCER_PROJECT="$PRODUCER_PROJECT" \
        LAB_CONSUMER_USER="$CONSUMER_USER" LAB_CONSUMER_PASSWORD="$CONSUMER_PASSWORD" LAB_CONSUMER_PROJECT="$CONSUMER_PROJECT" \
        LAB_CONSUMER_B_PROJECT="$CONSUMER_B_PROJECT" \
        LAB_PRODUCER_B_USER="$PRODUCER_B_USER" LAB_PRODUCER_B_PASSWORD="$PRODUCER_B_PASSWORD" LAB_PRODUCER_B_PROJECT="$PRODUCER_B_PROJECT" \
        LAB_DIRECTORY_USER="$DIRECTORY_USER" LAB_DIRECTORY_PASSWORD="$DIRECTORY_PASSWORD" \
        LAB_PARTNERS_DOMAIN="$PARTNERS_DOMAIN" LAB_PARTNER_ONE_PROJECT="$PARTNER_ONE_PROJECT" LAB_TWIN_PROJECT="$TWIN_PROJECT" \
        timeout 300 "$VENV/bin/python" "$LAB_SRC/bootstrap.py" "$IDS_ENV" </dev/null >>"$slog" 2>&1; then
        log_tail "$slog"
        log_tail "$(svc_log keystone)" 20
        die "REST bootstrap failed (log: $slog)"
    fi
    stamp_write rest "$key"
    log "bootstrap done in $(elapsed "$t0")"
}

# ---------------------------------------------------------------------------
# env files
# ---------------------------------------------------------------------------
# The directory password as the app reads it: alone in a file only its owner can read, with
# no newline after it.
write_directory_password_file() {
    local tmp=$DIRECTORY_PASSWORD_FILE.tmp
    (
        umask 077
        rm -f "$tmp"
        printf '%s' "$DIRECTORY_PASSWORD" >"$tmp"
    )
    chmod 600 "$tmp"
    mv -f "$tmp" "$DIRECTORY_PASSWORD_FILE"
}

write_env_files() {
    local tmp=$LAB_ENV.tmp
    write_directory_password_file
    {
        echo "LAB_STATE_DIR=$STATE"
        echo "LAB_VENV=$VENV"
        echo "LAB_CLOUDS_YAML=$CLOUDS_YAML"
        echo "LAB_KEYSTONE_URL=$(keystone_url)"
        echo "LAB_GLANCE_URL=http://127.0.0.1:$GLANCE_PORT"
        echo "LAB_GLANCE2_URL=http://127.0.0.1:$GLANCE2_PORT"
        echo "LAB_REGION=$REGION_ONE"
        echo "LAB_REGION2=$REGION_TWO"
        echo "LAB_REGION_MEMBER_QUOTA=$REGION_ONE_MEMBER_QUOTA"
        echo "LAB_REGION2_MEMBER_QUOTA=$REGION_TWO_MEMBER_QUOTA"
        echo "LAB_DOMAIN=Default"
        echo "LAB_DOMAIN_ID=default"
        echo "LAB_ADMIN_USER=$ADMIN_USER"
        echo "LAB_ADMIN_PASSWORD=$ADMIN_PASSWORD"
        echo "LAB_ADMIN_PROJECT=$ADMIN_PROJECT"
        echo "LAB_PRODUCER_USER=$PRODUCER_USER"
        echo "LAB_PRODUCER_PASSWORD=$PRODUCER_PASSWORD"
        echo "LAB_PRODUCER_PROJECT=$PRODUCER_PROJECT"
        echo "LAB_CONSUMER_USER=$CONSUMER_USER"
        echo "LAB_CONSUMER_PASSWORD=$CONSUMER_PASSWORD"
        echo "LAB_CONSUMER_PROJECT=$CONSUMER_PROJECT"
        echo "LAB_CONSUMER_B_PROJECT=$CONSUMER_B_PROJECT"
        echo "LAB_PRODUCER_B_USER=$PRODUCER_B_USER"
        echo "LAB_PRODUCER_B_PASSWORD=$PRODUCER_B_PASSWORD"
        echo "LAB_PRODUCER_B_PROJECT=$PRODUCER_B_PROJECT"
        echo "LAB_DIRECTORY_USER=$DIRECTORY_USER"
        echo "LAB_DIRECTORY_PASSWORD_FILE=$DIRECTORY_PASSWORD_FILE"
        echo "LAB_PARTNERS_DOMAIN=$PARTNERS_DOMAIN"
        echo "LAB_PARTNER_ONE_PROJECT=$PARTNER_ONE_PROJECT"
        echo "LAB_TWIN_PROJECT=$TWIN_PROJECT"
        cat "$IDS_ENV" # LAB_*_PROJECT_ID / LAB_*_USER_ID from bootstrap.py
    } >"$tmp"
    mv -f "$tmp" "$LAB_ENV"

    # No passwords here: callers pass --os-username/--os-password/--os-project-name.
    cat >"$CLOUDS_YAML.tmp" <<EOF
clouds:
  lab:
    auth:
      auth_url: $(keystone_url)
      user_domain_name: Default
      project_domain_name: Default
    region_name: $REGION_ONE
    interface: public
    identity_api_version: 3
  lab-region-two:
    auth:
      auth_url: $(keystone_url)
      user_domain_name: Default
      project_domain_name: Default
    region_name: $REGION_TWO
    interface: public
    identity_api_version: 3
EOF
    mv -f "$CLOUDS_YAML.tmp" "$CLOUDS_YAML"
}

# ---------------------------------------------------------------------------
# process management
# ---------------------------------------------------------------------------
# uWSGI processes: Keystone one (four threads), glance LAB_GLANCE_PROCESSES, glance2 (the quota
# region, small tests only) half of that.
svc_processes() {
    case $1 in
    keystone) echo 1 ;;
    glance) echo "$GLANCE_PROCESSES" ;;
    glance2) echo $(((GLANCE_PROCESSES + 1) / 2)) ;;
    esac
}

uwsgi_args() { # name -> uwsgi command line (one arg per line)
    local name=$1 port
    port=$(svc_port "$name")
    # Neither service has a standalone server any more; both are WSGI apps (FACTS §4.1).
    # --http-socket does no keep-alive but doesn't say so: clients that reuse the
    # socket get ECONNRESET unless told "Connection: close" (FACTS §4.7).
    local -a a=(
        "$VENV/bin/uwsgi"
        --http-socket "127.0.0.1:$port"
        --virtualenv "$VENV"
        --master --processes "$(svc_processes "$name")" --enable-threads
        --lazy-apps --need-app --die-on-term
        --add-header "Connection: close"
        --buffer-size 65535
        --procname-prefix-spaced "glance-share-lab-$name"
    )
    if [[ $name == keystone ]]; then
        a+=(--threads 4 --module keystone.wsgi.api:application)
    else
        # Several processes of one thread each, as production runs Glance's API workers: the
        # databases are on MariaDB, which takes concurrent writes (SQLite answered two
        # concurrent writers "database is locked", a 500, so the lab once ran one request at a time).
        a+=(--threads 1)
        # streamed uploads (PUT /v2/images/{id}/file) need these (FACTS §4.7)
        a+=(--module glance.wsgi.api:application --http-auto-chunked --http-chunked-input --http-raw-body)
    fi
    printf '%s\n' "${a[@]}"
}

# Start one service in the background, detached from our session and stdio so
# callers (test harnesses reading our output until EOF) never wait on it.
launch() {
    local name=$1 port logf pidfile
    local -a args
    port=$(svc_port "$name")
    logf=$(svc_log "$name")
    pidfile=$(svc_pidfile "$name")
    if svc_pid "$name" >/dev/null; then
        return 0 # running (maybe still loading); wait_ready decides
    fi
    rm -f "$pidfile"
    if port_in_use "$port"; then
        die "port $port ($name) is already used by a process this script did not start; stop it or set $(svc_port_var "$name")"
    fi
    mapfile -t args < <(uwsgi_args "$name")
    spawn_detached "$name" "$logf" env OS_KEYSTONE_CONFIG_FILES="$KEYSTONE_DIR/keystone.conf" \
        OS_GLANCE_CONFIG_DIR="$(glance_dir "$name")" "${args[@]}"
    LAUNCHED+=("$name")
}

# Runs a daemon in the background, detached from our session and stdio, its output appended to
# logf and its pid in the service's pid file.
spawn_detached() { # name logf command...
    local name=$1 logf=$2 pidfile pid
    shift 2
    pidfile=$(svc_pidfile "$name")
    mkdir -p "$RUN_DIR" "$LOG_DIR"
    echo "=== $(date -u +%FT%TZ) starting $name" >>"$logf"
    (
        # Close every inherited fd above stderr (our lock fd 9, and whatever the
        # caller leaked), or a daemon would hold them open forever.
        for fd in "/proc/$BASHPID/fd/"*; do
            fd=${fd##*/}
            if [[ $fd =~ ^[0-9]+$ && $fd -gt 2 ]]; then
                eval "exec $fd>&-" 2>/dev/null || true
            fi
        done
        cd "$STATE"
        unset PYTHONPATH PYTHONHOME
        # setsid: own session, so a terminal hangup or the caller's process-group
        # kill does not take the lab down. Not a group leader here, so setsid
        # execs in place and $! stays the daemon's pid (env execs too).
        # OS_KEYSTONE_CONFIG_FILES: FACTS §4.2.
        exec setsid "$@" </dev/null >>"$logf" 2>&1
    ) &
    pid=$!
    echo "$pid" >"$pidfile"
}

# Wait (bounded) until the service answers; on failure show its log and exit
# (the EXIT trap then stops whatever this invocation launched).
wait_ready() {
    local name=$1 deadline pid logf
    logf=$(svc_log "$name")
    deadline=$((SECONDS + START_TIMEOUT))
    pid=$(cat "$(svc_pidfile "$name")" 2>/dev/null) || die "$name has no pid file"
    while :; do
        # Only liveness here: right after launch the pid may not have exec'd
        # into uWSGI yet, so svc_pid's executable check would not match.
        if ! pid_alive "$pid"; then
            rm -f "$(svc_pidfile "$name")"
            log_tail "$logf"
            die "$name exited during startup (log: $logf)"
        fi
        if svc_answers "$name"; then
            return 0
        fi
        if ((SECONDS >= deadline)); then
            log_tail "$logf"
            die "$name did not answer on port $(svc_port "$name") within ${START_TIMEOUT}s (log: $logf)"
        fi
        sleep 0.5
    done
}

# flavor=keystone fails open (FACTS §4.3): refuse to run a Glance that lets
# anonymous requests through.
check_glance_auth() {
    local name=$1 code
    code=$(http_code "http://127.0.0.1:$(svc_port "$name")/v2/images" 10)
    if [[ $code != 401 ]]; then
        stop_service "$name" || true
        die "$name answered an unauthenticated GET /v2/images with $code instead of 401: keystone auth is not active"
    fi
}

# Stopping = SIGTERM to the master, a bounded wait, then SIGKILL of that pid only.
# The workers need no signal: uWSGI workers exit by themselves when their
# master is gone (checked by killing a master with SIGKILL).
signal_service() {
    local name=$1 pid
    pid=$(svc_pid "$name") || return 1
    # --die-on-term: SIGTERM shuts uWSGI down (without it, SIGTERM means reload).
    kill -TERM "$pid" 2>/dev/null || true
    echo "$pid"
}

await_exit() {
    local name=$1 pid=$2 deadline
    deadline=$((SECONDS + STOP_TIMEOUT))
    while pid_alive "$pid" && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if pid_alive "$pid"; then
        log "$name (pid $pid) did not stop within ${STOP_TIMEOUT}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 10))
        while pid_alive "$pid" && ((SECONDS < deadline)); do
            sleep 0.2
        done
    fi
    # A worker busy with a request can outlive its master (seen with Glance's one-thread
    # worker) and keep the port. setsid made the master the leader of a process group of
    # its own, which holds only it and its workers: end whatever is left of that group.
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$(svc_pidfile "$name")"
}

stop_service() {
    local name=$1 pid
    if pid=$(signal_service "$name"); then
        await_exit "$name" "$pid"
        log "stopped $name"
    else
        rm -f "$(svc_pidfile "$name")"
    fi
}

stop_services() { # stop several in parallel: graceful uWSGI shutdown takes seconds each
    local -a names=() pids=()
    local name pid i
    for name in "$@"; do
        if pid=$(signal_service "$name"); then
            names+=("$name")
            pids+=("$pid")
        else
            rm -f "$(svc_pidfile "$name")"
        fi
    done
    for i in "${!names[@]}"; do
        await_exit "${names[$i]}" "${pids[$i]}"
    done
    if [[ ${#names[@]} -gt 0 ]]; then
        log "stopped ${names[*]}"
    else
        log "nothing was running"
    fi
}

# A failed start must not leave half a lab running (e.g. Glance up but the
# bootstrap failed): stop what this invocation launched. Runs on exit.
stop_launched_on_failure() {
    local rc=$?
    if [[ $rc -ne 0 && ${#LAUNCHED[@]} -gt 0 ]]; then
        log "start failed: stopping ${LAUNCHED[*]}"
        stop_services "${LAUNCHED[@]}" || true
    fi
    if [[ $rc -ne 0 && $MARIADB_LAUNCHED == yes ]]; then
        stop_mariadb || true
    fi
    return $rc
}

# ---------------------------------------------------------------------------
# MariaDB: both Glances' databases
# ---------------------------------------------------------------------------
MARIADB_LAUNCHED=no

mariadb_socket() { echo "$RUN_DIR/mariadb.sock"; }

# As MariaDB's root, over the socket in our run dir (root has no TCP account: --skip-name-resolve
# makes a loopback client 127.0.0.1, and only root@localhost exists).
mariadb_client() {
    "$(mariadb_tool mariadb)" --no-defaults --protocol=socket --socket="$(mariadb_socket)" -uroot "$@"
}

mariadb_answers() {
    "$(mariadb_tool mariadb-admin)" --no-defaults --protocol=socket --socket="$(mariadb_socket)" -uroot \
        --connect-timeout=2 ping >/dev/null 2>&1
}

# The pid in MariaDB's pid file, if that process is alive and is mariadbd (not a recycled pid).
mariadb_pid() {
    local pidfile pid exe
    pidfile=$(svc_pidfile mariadb)
    [[ -f $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    pid_alive "$pid" || return 1
    exe=$(readlink -f "/proc/$pid/exe" 2>/dev/null) || return 1
    [[ $exe == "$(readlink -f "$(mariadb_tool mariadbd)")" ]] || return 1
    echo "$pid"
}

mariadb_up() { mariadb_pid >/dev/null && mariadb_answers; }

# Starts MariaDB (a data dir of its own under the state dir, first time only), waits until it
# answers, and makes sure both Glance databases and their user exist. Idempotent.
start_mariadb() {
    local logf slog user deadline pid
    logf=$(svc_log mariadb)
    slog=$LOG_DIR/setup-mariadb.log
    user=$(id -un)
    if ! mariadb_pid >/dev/null; then
        rm -f "$(svc_pidfile mariadb)"
        if port_in_use "$MARIADB_PORT"; then
            die "port $MARIADB_PORT (mariadb) is already used by a process this script did not start; stop it or set LAB_MARIADB_PORT"
        fi
        if [[ ! -d $MARIADB_DIR/mysql ]]; then
            log "first start: creating MariaDB's data dir"
            rm -rf "$MARIADB_DIR"
            mkdir -p "$MARIADB_DIR"
            # --user: as root, MariaDB runs as root only when told to (a throw-away lab).
            if ! "$(mariadb_tool mariadb-install-db)" --no-defaults --datadir="$MARIADB_DIR" --user="$user" \
                --auth-root-authentication-method=normal --skip-test-db </dev/null >>"$slog" 2>&1; then
                log_tail "$slog"
                die "mariadb-install-db failed (log: $slog)"
            fi
        fi
        # No binary log (no replica), a small buffer pool (the lab's databases are small).
        spawn_detached mariadb "$logf" "$(mariadb_tool mariadbd)" --no-defaults --datadir="$MARIADB_DIR" \
            --user="$user" --port="$MARIADB_PORT" --bind-address=127.0.0.1 --socket="$(mariadb_socket)" \
            --skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=128M --max-connections=300
        MARIADB_LAUNCHED=yes
    fi
    pid=$(cat "$(svc_pidfile mariadb)")
    deadline=$((SECONDS + START_TIMEOUT))
    until mariadb_answers; do
        if ! pid_alive "$pid"; then
            rm -f "$(svc_pidfile mariadb)"
            log_tail "$logf"
            die "mariadb exited during startup (log: $logf)"
        fi
        ((SECONDS < deadline)) || {
            log_tail "$logf"
            die "mariadb did not answer within ${START_TIMEOUT}s (log: $logf)"
        }
        sleep 0.2
    done
    # utf8mb4 as production Glance's databases (image names hold any Unicode), with MariaDB's
    # default, case-insensitive collation, as production has.
    mariadb_client </dev/null >>"$slog" 2>&1 <<EOF || die "could not create the Glance databases (log: $slog)"
CREATE DATABASE IF NOT EXISTS $(glance_database glance) CHARACTER SET utf8mb4;
CREATE DATABASE IF NOT EXISTS $(glance_database glance2) CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'glance'@'127.0.0.1' IDENTIFIED BY '$GLANCE_DB_PASSWORD';
ALTER USER 'glance'@'127.0.0.1' IDENTIFIED BY '$GLANCE_DB_PASSWORD';
GRANT ALL PRIVILEGES ON $(glance_database glance).* TO 'glance'@'127.0.0.1';
GRANT ALL PRIVILEGES ON $(glance_database glance2).* TO 'glance'@'127.0.0.1';
EOF
}

stop_mariadb() {
    local pid
    if pid=$(mariadb_pid); then
        # SIGTERM is MariaDB's clean shutdown (InnoDB flushes; a second or two).
        kill -TERM "$pid" 2>/dev/null || true
        await_exit mariadb "$pid"
        log "stopped mariadb"
    else
        rm -f "$(svc_pidfile mariadb)"
    fi
}

# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------
all_up() {
    local s
    mariadb_up || return 1
    for s in "${SERVICES[@]}"; do svc_up "$s" || return 1; done
}

cmd_start() {
    take_lock
    mkdir -p "$LOG_DIR" "$RUN_DIR" "$STAMP_DIR"
    if all_up && [[ -s $LAB_ENV && -s $DIRECTORY_PASSWORD_FILE ]] && stamp_ok rest "$(rest_bootstrap_key)"; then
        log "already running"
        cmd_status >&2 || true
        cat "$LAB_ENV"
        return 0
    fi
    local t0 s
    t0=$(now_ms)
    trap stop_launched_on_failure EXIT
    cmd_install
    write_configs
    start_mariadb
    run_setup
    # Glance does not need Keystone to load (authtoken connects lazily), so all
    # three load in parallel; only the REST bootstrap waits for Keystone.
    for s in "${SERVICES[@]}"; do launch "$s"; done
    wait_ready keystone
    rest_bootstrap
    warm_keystone
    write_env_files
    wait_ready glance
    wait_ready glance2
    check_glance_auth glance
    check_glance_auth glance2
    log "lab is up in $(elapsed "$t0"): keystone $(keystone_url), glance http://127.0.0.1:$GLANCE_PORT ($REGION_ONE), glance2 http://127.0.0.1:$GLANCE2_PORT ($REGION_TWO, member quota $REGION_TWO_MEMBER_QUOTA); env: $LAB_ENV"
    cat "$LAB_ENV"
}

cmd_stop() {
    [[ -d $STATE ]] || { log "nothing was running"; return 0; }
    take_lock
    stop_services "${SERVICES[@]}"
    stop_mariadb
}

cmd_start_glance() {
    take_lock
    if ! installed_ok || glance_setup_needed glance || [[ ! -s $LAB_ENV ]]; then
        log "lab not set up yet, running a full start"
        flock -u 9
        cmd_start >/dev/null
        return 0
    fi
    local t0
    t0=$(now_ms)
    trap stop_launched_on_failure EXIT
    start_mariadb
    write_glance_config glance
    launch glance
    wait_ready glance
    check_glance_auth glance
    log "glance ($REGION_ONE) is up on http://127.0.0.1:$GLANCE_PORT in $(elapsed "$t0")"
}

cmd_stop_glance() {
    [[ -d $STATE ]] || { log "nothing was running"; return 0; }
    take_lock
    stop_services glance
}

cmd_status() {
    local s pid state note rc=0 port
    for s in "${SERVICES[@]}"; do
        port=$(svc_port "$s")
        note=""
        if pid=$(svc_pid "$s"); then
            if svc_answers "$s"; then
                state=up
            else
                state=starting
                note=" - process runs but does not answer yet (log: $(svc_log "$s"))"
                rc=3
            fi
        else
            pid=-
            state=down
            rc=3
            if port_in_use "$port"; then
                note=" - port $port is used by a process this script did not start"
            fi
        fi
        printf '%-8s %-8s pid %-7s %s %s%s\n' "$s" "$state" "$pid" "http://127.0.0.1:$port" "$(svc_region "$s")" "$note"
    done
    state=down pid=-
    if pid=$(mariadb_pid); then
        if mariadb_answers; then state=up; else state=starting rc=3; fi
    else
        pid=- rc=3
    fi
    printf '%-8s %-8s pid %-7s %s\n' mariadb "$state" "$pid" "127.0.0.1:$MARIADB_PORT (Glance databases)"
    return $rc
}

cmd_env() {
    [[ -s $LAB_ENV ]] || die "no $LAB_ENV yet: run lab/lab.sh start"
    cat "$LAB_ENV"
}

cmd_reset() {
    [[ -d $STATE ]] || return 0
    take_lock
    stop_services "${SERVICES[@]}"
    stop_mariadb
    # Keep the venv (minutes to rebuild) and the lock we hold.
    find "$STATE" -mindepth 1 -maxdepth 1 ! -name venv ! -name .lock -exec rm -rf {} +
    log "state in $STATE deleted (venv kept); the next start bootstraps from scratch"
}

usage() {
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
}

main() {
    local cmd=${1:-}
    [[ $# -gt 0 ]] && shift
    case $cmd in
    -h | --help | help | "")
        usage
        [[ -n $cmd ]]
        return
        ;;
    esac
    validate_settings
    require_tools
    case $cmd in
    install)
        take_lock
        cmd_install
        ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    reset) cmd_reset ;;
    stop-glance) cmd_stop_glance ;;
    start-glance) cmd_start_glance ;;
    *)
        usage
        die "unknown command '$cmd'"
        ;;
    esac
}

main "$@"
