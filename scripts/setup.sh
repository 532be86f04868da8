#!/usr/bin/env bash
# Installs from Debian what Blindspot needs when it is missing (oneDNN, libvips and SQLite headers, pkg-config, python3
# with pip); with `test`, also what the tests start or drive (PostgreSQL, Chromium and its driver) and, with pip, pytest,
# selenium, jsonschema, openapi-spec-validator, pillow, pyyaml and numpy. Safe to run again: it installs nothing that is already there.
set -euo pipefail

packages=(libdnnl-dev libvips-dev libsqlite3-dev pkg-config python3 python3-pip)
[ "${1:-}" = test ] && packages+=(chromium chromium-driver postgresql)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# A python3 with pip from elsewhere (pyenv, a venv) is as good as Debian's.
if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
    missing=("${missing[@]/python3-pip}")
    missing=("${missing[@]/python3}")
fi
read -r -a missing <<< "${missing[*]}"
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    sudo_prefix=()
    [ "$(id -u)" -eq 0 ] || sudo_prefix=(sudo)
    "${sudo_prefix[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_prefix[@]}" apt-get install -y -qq "${missing[@]}"
fi

if [ "${1:-}" = test ] && ! python3 -c "import pytest, selenium, jsonschema, openapi_spec_validator, PIL, yaml, numpy" 2>/dev/null; then
    echo "setup: installing the pytest, selenium, jsonschema, openapi-spec-validator, pillow, pyyaml and numpy packages"
    # Debian's own python3 refuses pip beside its packages (PEP 668); these seven are test tools, not system parts.
    python3 -m pip install --quiet pytest selenium jsonschema openapi-spec-validator pillow pyyaml numpy \
        || python3 -m pip install --quiet --break-system-packages pytest selenium jsonschema openapi-spec-validator pillow pyyaml numpy
fi
