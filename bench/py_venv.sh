#!/bin/sh
# The P scenarios' interpreter: a venv (default build/bench/pyvenv) holding the newest wheel in
# WHEEL_DIR (default build/wheels: `make bench` builds it first) and `requests` for the
# hand-written contenders. Reinstalls the wheel every time: it is the code under test.
# usage: sh bench/py_venv.sh [VENV [WHEEL_DIR]]
set -e
venv=${1:-build/bench/pyvenv}
wheels=${2:-build/wheels}
wheel=$(ls -t "$wheels"/vault_parts-*.whl 2>/dev/null | head -n1)
if [ -z "$wheel" ]; then
    echo "bench: no wheel in $wheels: python3 -m pip wheel --no-deps ./python -w $wheels" >&2
    exit 1
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import cffi, requests" 2>/dev/null || "$venv/bin/python" -m pip install -q cffi requests
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps "$wheel"
"$venv/bin/python" -c "import vault_parts, requests; print('bench: venv', '$venv', 'vault_parts', vault_parts.__version__, 'requests', requests.__version__)"
