#!/usr/bin/env bash
# Install the Debian packages needed to build the test dependencies.
# mysqlclient builds from source and needs libmariadb-dev and pkg-config.
# Runs apt-get only when something is missing; `apt-get update` only if the
# package lists have never been fetched or the first install attempt fails.
set -euo pipefail

PACKAGES=(libmariadb-dev pkg-config)

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "system-deps: ${PACKAGES[*]} already installed"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: missing ${missing[*]} and apt-get is not available; install them by hand" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
echo "system-deps: installing ${missing[*]}"
# Without package lists (fresh image) install cannot find anything: update first.
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' || true)" ]; then
    $SUDO apt-get update
fi
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
    # Lists may be stale (old package versions no longer served): refresh and retry once.
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
