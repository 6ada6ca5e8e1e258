#!/usr/bin/env bash
# Start-up time of the CLI as each package runs it: `dotnet rollingupgrade.dll`, the single file,
# and the single file with ReadyToRun; `--version` and `validate --offline` of an example plan.
# Median of 7 runs after one warm-up. Builds what it measures into a temporary folder.
# usage: bash bench/startup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cli=src/RollingUpgrade.Cli/RollingUpgrade.Cli.csproj
plan=deploy/examples/rolling-ejabberd-local.toml
dotnet build "$cli" -c Release -nologo -v quiet -o "$out/dll" >/dev/null
dotnet publish "$cli" -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true -p:DebugType=none \
  -o "$out/single" -nologo -v quiet >/dev/null
dotnet publish "$cli" -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true -p:DebugType=none \
  -p:PublishReadyToRun=true -o "$out/r2r" -nologo -v quiet >/dev/null

median() {
  local label=$1
  shift
  "$@" >/dev/null 2>&1 || true
  local times=()
  for _ in 1 2 3 4 5 6 7; do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000000)))
  done
  echo "$label: $(printf '%s\n' "${times[@]}" | sort -n | sed -n 4p) ms (runs: ${times[*]})"
}

for what in "--version" "validate --offline $plan"; do
  # shellcheck disable=SC2086
  median "dotnet rollingupgrade.dll $what" dotnet "$out/dll/rollingupgrade.dll" $what
  # shellcheck disable=SC2086
  median "single file $what" "$out/single/rollingupgrade" $what
  # shellcheck disable=SC2086
  median "single file + ReadyToRun $what" "$out/r2r/rollingupgrade" $what
done
du -m "$out/single/rollingupgrade" "$out/r2r/rollingupgrade"
