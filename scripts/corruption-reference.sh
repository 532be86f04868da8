#!/usr/bin/env bash
# Makes the virtual environment the ImageNet-C parity test (Tests/Corruptions) runs the reference implementation in:
# imagecorruptions 1.1.2 with the old NumPy, scikit-image and OpenCV under which all 19 of its corruptions run (with
# today's versions glass blur, gaussian blur and fog raise). scikit-image<0.19 has no wheel past CPython 3.9, hence a
# Python 3.9: `python3.9` on PATH, else pyenv's. Binary wheels only. Idempotent: when DIR's stamp names these pins it
# returns at once; otherwise DIR is made again from scratch. Usage: scripts/corruption-reference.sh [DIR] (default .venv-corruptions).
set -euo pipefail

directory="${1:-.venv-corruptions}"
pins=(imagecorruptions==1.1.2 'numpy<2' 'scikit-image<0.19' 'opencv-python<4.11')
stamp="$directory/reference-stamp"
wanted="pins: ${pins[*]}"

if [ -x "$directory/bin/python" ] && [ -f "$stamp" ] && [ "$(head -n 1 "$stamp")" = "$wanted" ]; then
    touch "$stamp"  # newer than this script, for the Makefile's rule
    exit 0
fi

# A Python 3.9 that really runs (a pyenv shim for a version that is not selected exists but fails) and has venv.
interpreter=""
for candidate in "$(command -v python3.9 || true)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.9*/bin/python3.9; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] \
        && "$candidate" -c 'import sys, venv; assert sys.version_info[:2] == (3, 9)' >/dev/null 2>&1; then
        interpreter="$candidate"
        break
    fi
done
if [ -z "$interpreter" ]; then
    echo "corruption-reference: no Python 3.9 found (neither python3.9 on PATH nor ${PYENV_ROOT:-$HOME/.pyenv}/versions/3.9.*);" \
        "install one (e.g. 'pyenv install 3.9' or Debian's python3.9 with python3.9-venv): imagecorruptions' pinned" \
        "scikit-image<0.19 has no wheel for newer Pythons" >&2
    exit 1
fi

echo "corruption-reference: making $directory with $interpreter: ${pins[*]}"
rm -rf "$directory"
"$interpreter" -m venv "$directory"
"$directory/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: "${pins[@]}"
# The stamp's first line is what this script compares; the rest records what was installed.
{
    echo "$wanted"
    echo "python: $("$directory/bin/python" -c 'import sys; print(sys.version.split()[0])')"
    "$directory/bin/python" -m pip freeze --disable-pip-version-check
} > "$stamp.partial"
# The reference must import, all 19 corruptions with it: a broken install fails here, not in the test.
"$directory/bin/python" -c 'import imagecorruptions, numpy as np
image = np.random.RandomState(0).randint(0, 256, (64, 64, 3)).astype(np.uint8)
for name in imagecorruptions.get_corruption_names("all"):
    imagecorruptions.corrupt(image, severity=5, corruption_name=name)'
mv "$stamp.partial" "$stamp"
