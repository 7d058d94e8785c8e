#!/usr/bin/env bash
# Make sure the database servers the test suite uses are up:
#   PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres)
#   MariaDB    on 127.0.0.1:3306 (root, empty password)
# Starts whichever is stopped, then waits (bounded) until each accepts
# connections. Exits non-zero, saying which one, if either does not come up.
set -euo pipefail

TIMEOUT="${SERVICES_TIMEOUT:-30}"

pg_up() {
    pg_isready -q -h 127.0.0.1 -p 5432 -U postgres
}

mariadb_up() {
    mariadb-admin --host=127.0.0.1 --port=3306 --user=root --password= \
        --connect-timeout=2 ping >/dev/null 2>&1
}

wait_for() {  # wait_for NAME CHECK_FUNCTION
    local name="$1" check="$2" waited=0
    until "$check"; do
        if [ "$waited" -ge "$TIMEOUT" ]; then
            echo "services: ERROR: $name is not accepting connections after ${TIMEOUT}s" >&2
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    echo "services: $name is accepting connections"
}

status=0

# PostgreSQL
if pg_up; then
    echo "services: PostgreSQL already running"
else
    echo "services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start || true
    wait_for PostgreSQL pg_up || status=1
fi

# MariaDB
if mariadb_up; then
    echo "services: MariaDB already running"
else
    echo "services: starting MariaDB"
    # mariadbd's socket directory lives on tmpfs: after a reboot it is gone.
    if [ ! -d /run/mysqld ] && id mysql >/dev/null 2>&1; then
        install -d -o mysql -g mysql /run/mysqld
    fi
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
    wait_for MariaDB mariadb_up || status=1
fi

if [ "$status" -ne 0 ]; then
    echo "services: ERROR: a database server the tests need is not available (see above)" >&2
fi
exit "$status"
