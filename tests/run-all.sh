#!/usr/bin/env bash
# The whole test suite: installs what the tests need, builds with warnings as errors, runs
# every test project (one after another, except the lab's Docker tests, which run in a network
# namespace of their own beside the projects that start no cluster), and ends with the slowest
# tests and "N passed, N failed, N skipped" computed from the test results.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/install-deps.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 AWS_EC2_METADATA_DISABLED=true

results=$(mktemp -d)
packages=$(mktemp -d)
lab_pid=
trap '[ -z "$lab_pid" ] || kill "$lab_pid" 2>/dev/null; rm -rf "$results" "$packages"' EXIT
dotnet build RollingUpgrade.sln -c Release -warnaserror -nologo -v quiet
export ROLLINGUPGRADE_PACKAGES=$packages
rc=0
run_tests() {
  dotnet test "$1" -c Release --no-build --nologo \
    --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results/$(basename "$1" .csproj)"
}
# Waits until the packages below are made (or failed to be).
packages_made() {
  while [ ! -e "$ROLLINGUPGRADE_PACKAGES/.made" ]; do sleep 2; done
}
# The lab's tests run inside the network namespace of a Docker daemon of their own, in the background from the
# start (their first minutes make the base image and start the daemon, while the packages are made), beside only
# the projects that start no cluster of their own (the product tests start single nodes): on two cores, nodes in
# containers and whole clusters on loopback slowed each other past their timeouts.
lab_log=$(mktemp)
for project in tests/*Lab.Tests/*.csproj; do
  bash tests/docker/with-docker.sh bash -c \
    "$(declare -p results); $(declare -f run_tests packages_made); packages_made; run_tests $project" \
    > "$lab_log" 2>&1 &
  lab_pid=$!
done
# The packages people install (tool package, single-file binary), made here where NuGet is reachable;
# the lab's tests install and run them.
bash tests/tools/make-packages.sh "$packages" || rc=1
touch "$packages/.made"
beside_lab() {
  case "$1" in *Core.Tests*|*AwsElb.Tests*|*HAProxy.Tests*|*Yarp.Tests*|*Nodes.Tests*) return 0 ;; esac
  return 1
}
for project in tests/*.Tests/*.csproj; do
  case "$project" in *Lab.Tests*) continue ;; esac
  if beside_lab "$project"; then run_tests "$project" || rc=1; fi
done
if [ -n "$lab_pid" ]; then
  wait "$lab_pid" || rc=1
  lab_pid=
fi
cat "$lab_log"
rm -f "$lab_log"
for project in tests/*.Tests/*.csproj; do
  case "$project" in *Lab.Tests*) continue ;; esac
  if ! beside_lab "$project"; then run_tests "$project" || rc=1; fi
done
summary=$(python3 tests/tools/count-results.py "$results") || rc=1
echo "$summary"
exit $rc
