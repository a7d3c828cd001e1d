#!/bin/sh
# Installs the benchmark's contenders and server where a package manager can.
missing=""
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx-light"
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v jq >/dev/null 2>&1 || missing="$missing jq"
if [ -n "$missing" ]; then
    if command -v apt-get >/dev/null 2>&1; then
        echo "bench: installing$missing"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
        echo "bench: cannot install$missing: no apt-get" >&2
        exit 1
    fi
fi
python3 -c "import requests" 2>/dev/null || python3 -m pip install -q requests
