#!/usr/bin/env bash
# Issue #9's soak (docs/PERFORMANCE.md, "Soak"): builds parley-bench in Release and runs `parley-bench soak` against a
# throw-away server on loopback. It stops by itself after the duration and a bounded drain, and exits non-zero if
# anything was lost or duplicated, any ERROR, exception or unexpected close occurred, or the server's memory grew.
# Defaults: 20 clients for 10 minutes; every argument is passed through and may override them, e.g.
#   bench/soak.sh --clients 40 --duration 30m --seed 7 --json soak.json
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
defaults=()
[[ " $* " == *" --clients"* ]] || defaults+=(--clients 20)
[[ " $* " == *" --duration"* ]] || defaults+=(--duration 10m)
dotnet build "$root/bench/Parley.LoadGenerator" -c Release -v quiet -nologo
exec "$root/bench/Parley.LoadGenerator/bin/Release/net10.0/parley-bench" soak "${defaults[@]}" "$@"
