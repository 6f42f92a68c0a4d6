#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `eci-sandbox cp` of one big file up and back against a local `eci-sandbox emulator`, with
# the CLI's wall time and peak RSS (/usr/bin/time -v) for each direction.
# Usage: bench/cp_bench.sh path/to/eci-sandbox [MEGABYTES, default 100]
set -euo pipefail
cli=${1:?usage: cp_bench.sh path/to/eci-sandbox [MEGABYTES]}
megabytes=${2:-100}
work=$(mktemp -d)
trap 'kill "$emulator_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
secret=cpbenchsecret0123456789abcdef
ECI_EMULATOR_ACCESS_KEY_SECRET=$secret "$cli" emulator --start-delay-ms 0 \
    --access-key-id LTAIcpbench00001 --region cn-hangzhou >"$work/ready" 2>"$work/emulator.log" &
emulator_pid=$!
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
ready=$(head -n 1 "$work/ready")
field() { printf '%s' "$ready" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
export ECI_SANDBOX_ENDPOINT="https://$(field endpoint)" ECI_SANDBOX_CA_FILE=$(field ca_file) \
    ECI_SANDBOX_REGION_ID=cn-hangzhou ECI_SANDBOX_ACCESS_KEY_ID=LTAIcpbench00001 \
    ECI_SANDBOX_ACCESS_KEY_SECRET=$secret
id=$("$cli" create --image bench --name cp-bench --json | sed -n 's/.*"sandbox_id":"\([^"]*\)".*/\1/p')
head -c "$((megabytes * 1000000))" /dev/urandom >"$work/big.bin"
measure() {
    /usr/bin/time -v "$@" 2>"$work/time" >/dev/null
    printf '%-9s %6.1f s  peak RSS %6d KiB\n' "$label" \
        "$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): \(.*\)/\1/p' "$work/time" |
            awk -F: '{print $(NF-1)*60 + $NF}')" \
        "$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time")"
}
label=upload measure "$cli" cp "$work/big.bin" "$id:/tmp/big.bin"
label=download measure "$cli" cp "$id:/tmp/big.bin" "$work/back.bin"
cmp "$work/big.bin" "$work/back.bin" && echo "round trip: identical ($megabytes MB)"
"$cli" delete "$id" >/dev/null
