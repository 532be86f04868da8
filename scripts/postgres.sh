#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, from Debian's postgresql package: `start DIR PORT` (initdb when absent,
# 127.0.0.1:PORT only, prints postgres://USER@127.0.0.1:PORT/blindspot_test as its last line) and `stop DIR`.
# As root the server runs as the `postgres` user, who then owns DIR; progress goes to stderr, the URL alone to stdout.
set -euo pipefail

database=blindspot_test

die() { echo "postgres.sh: $*" >&2; exit 1; }

usage() {
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
}

# The newest installed server's binaries (Debian keeps them under /usr/lib/postgresql/VERSION/bin); PG_BIN overrides.
find_bin() {
    if [ -n "${PG_BIN:-}" ]; then
        [ -x "$PG_BIN/pg_ctl" ] || die "PG_BIN=$PG_BIN has no pg_ctl"
        echo "$PG_BIN"
        return
    fi
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] || die "no PostgreSQL server under /usr/lib/postgresql (run scripts/setup.sh test)"
    echo "$dir"
}

# Runs a command as the cluster's owner: the postgres OS user when we are root, else ourselves.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

owner_name() {
    if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

# Where DIR's cluster lives: DIR itself, or the folder DIR/location names.
cluster_home() {
    local dir=$1
    if [ -s "$dir/location" ]; then cat "$dir/location"; else echo "$dir"; fi
}

is_running() {
    local data=$1
    [ -f "$data/PG_VERSION" ] || return 1
    as_owner "$bin/pg_ctl" status -D "$data" >/dev/null 2>&1
}

start() {
    local dir=$1 port=$2
    [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "'$port' is not a port"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    local home="$dir" user previous
    user=$(owner_name)
    previous=$(cat "$dir/location" 2>/dev/null || true)
    rm -f "$dir/location"
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || die "running as root needs the postgres OS user (Debian's postgresql package makes it)"
        chown -R postgres: "$dir"
        if ! as_owner test -w "$dir"; then
            # A parent folder is closed to postgres (a checkout under /root, say): keep the cluster under /tmp, and
            # DIR/location says where, for the next start and for stop.
            home=$previous
            if [ -z "$home" ] || [ ! -d "$home" ] || ! as_owner test -w "$home"; then
                home=$(mktemp -d /tmp/blindspot-postgres-XXXXXX)
                chown postgres: "$home"
            fi
            echo "$home" > "$dir/location"
            echo "postgres.sh: the postgres user cannot reach $dir; the cluster lives in $home" >&2
        fi
    fi
    local data="$home/data"

    if is_running "$data"; then
        echo "postgres.sh: a server already runs in $data; restarting it on port $port" >&2
        as_owner "$bin/pg_ctl" stop -D "$data" -m fast -w >&2
    fi

    if [ ! -f "$data/PG_VERSION" ]; then
        rm -rf "$data"
        echo "postgres.sh: creating a cluster in $data" >&2
        as_owner "$bin/initdb" -D "$data" -U "$user" --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-instructions >&2 \
            || as_owner "$bin/initdb" -D "$data" -U "$user" --auth=trust --encoding=UTF8 --no-locale --no-instructions >&2
        echo "include_if_exists = 'blindspot.conf'" | as_owner tee -a "$data/postgresql.conf" >/dev/null
        as_owner tee "$data/pg_hba.conf" >/dev/null <<'EOF'
# Throwaway test cluster: trust, and only from this machine.
local   all all                trust
host    all all 127.0.0.1/32   trust
host    all all ::1/128        trust
EOF
    fi

    # The Unix socket's path must fit in 107 bytes; a deep DIR gets a socket folder under /tmp instead.
    local socket_dir="$home"
    if [ $(( ${#home} + 20 )) -gt 100 ]; then
        socket_dir="/tmp/blindspot-postgres-socket-$(id -u)-$port"
        mkdir -p "$socket_dir"
        if [ "$(id -u)" -eq 0 ]; then chown postgres: "$socket_dir"; fi
        echo "postgres.sh: $home is too deep for a Unix socket; the socket goes to $socket_dir" >&2
    fi
    as_owner tee "$data/blindspot.conf" >/dev/null <<EOF
# Written by scripts/postgres.sh at each start.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$socket_dir'
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 200
EOF

    as_owner "$bin/pg_ctl" start -D "$data" -l "$home/postgres.log" -w -t 60 >&2 \
        || { tail -n 20 "$home/postgres.log" >&2 || true; die "the server did not start (log: $home/postgres.log)"; }
    local tries=0
    until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -U "$user"; do
        tries=$((tries + 1))
        [ "$tries" -lt 60 ] || die "the server on 127.0.0.1:$port does not answer (log: $home/postgres.log)"
        sleep 0.5
    done

    PGOPTIONS="-c client_min_messages=warning" "$bin/psql" -q -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$user" -d postgres >&2 <<EOF
DROP DATABASE IF EXISTS $database WITH (FORCE);
CREATE DATABASE $database;
EOF
    echo "postgres://$user@127.0.0.1:$port/$database"
}

stop() {
    local dir=$1
    [ -d "$dir" ] || return 0
    local data
    data="$(cluster_home "$dir")/data"
    if is_running "$data"; then
        as_owner "$bin/pg_ctl" stop -D "$data" -m fast -w -t 60 >&2
    fi
}

[ $# -ge 1 ] || usage
case "$1" in
    start) [ $# -eq 3 ] || usage; bin=$(find_bin); start "$2" "$3" ;;
    stop) [ $# -eq 2 ] || usage; bin=$(find_bin); stop "$2" ;;
    *) usage ;;
esac
