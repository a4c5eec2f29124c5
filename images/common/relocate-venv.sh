#!/bin/sh
# Makes a venv copied from the host run from its new place on Debian's python3.11 (same cp311
# ABI as the CPython that made it): the interpreter links, pyvenv.cfg, and every script that
# names the old location (console-script shebangs, activate scripts).
# Usage: relocate-venv.sh /opt/venv
set -eu
venv=$1
python=/usr/bin/python3.11
old=$(sed -n 's/^command = .* -m venv //p' "$venv/pyvenv.cfg")
[ -n "$old" ] || { echo "relocate-venv: no 'command = ... -m venv PATH' line in $venv/pyvenv.cfg" >&2; exit 1; }
cat > "$venv/pyvenv.cfg" <<CFG
home = $(dirname "$python")
include-system-site-packages = false
version = $($python -c 'import platform; print(platform.python_version())')
executable = $python
command = $python -m venv $venv
CFG
ln -sfn "$python" "$venv/bin/python3"
ln -sfn python3 "$venv/bin/python"
ln -sfn python3 "$venv/bin/python3.11"
grep -rlIF -- "$old" "$venv/bin" | while read -r f; do sed -i "s|$old|$venv|g" "$f"; done
! grep -rlIF -- "$old" "$venv/bin" || { echo "relocate-venv: $old still named above" >&2; exit 1; }
"$venv/bin/python" -c 'import sys; assert sys.prefix == sys.argv[1], sys.prefix' "$venv"
