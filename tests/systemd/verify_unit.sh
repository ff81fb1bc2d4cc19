#!/usr/bin/env bash
# Checks systemd/vigil.service with `systemd-analyze verify` (syntax, directives,
# executables), pointing it at the freshly built binary.
set -euo pipefail
unit_src=$1
vigil=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|/usr/bin/vigil|$vigil|g" "$unit_src" > "$dir/vigil.service"
out=$(systemd-analyze verify "$dir/vigil.service" 2>&1) || { echo "$out"; exit 1; }
if [[ -n $out ]]; then echo "$out"; exit 1; fi
grep -q '^Type=notify$' "$dir/vigil.service"
grep -q '^WatchdogSec=' "$dir/vigil.service"
echo "systemd unit OK"
