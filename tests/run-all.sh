#!/usr/bin/env bash
# The whole test suite: installs what the tests need, builds with warnings as errors, runs
# every test project one after another (real components share loopback addresses; the lab's
# Docker tests run in a network namespace of their own), and ends with "N passed, N failed,
# N skipped" computed from the test results.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/install-deps.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 AWS_EC2_METADATA_DISABLED=true

results=$(mktemp -d)
packages=$(mktemp -d)
trap 'rm -rf "$results" "$packages"' EXIT
dotnet build RollingUpgrade.sln -c Release -warnaserror -nologo -v quiet
# The packages people install (tool package, single-file binary), made here where NuGet is reachable;
# the lab's tests install and run them.
bash tests/tools/make-packages.sh "$packages"
export ROLLINGUPGRADE_PACKAGES=$packages
rc=0
run_tests() {
  dotnet test "$1" -c Release --no-build --nologo \
    --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results/$(basename "$1" .csproj)"
}
for project in tests/*.Tests/*.csproj; do
  case "$project" in
    # The lab's tests run inside the network namespace of a Docker daemon of their own. One after another,
    # not beside the others: on two cores, nodes in containers and nodes on loopback slowed each other past
    # their timeouts and the whole run took longer, not shorter.
    *Lab.Tests*) bash tests/docker/with-docker.sh bash -c "$(declare -p results); $(declare -f run_tests); run_tests $project" || rc=1 ;;
    *) run_tests "$project" || rc=1 ;;
  esac
done
summary=$(python3 tests/tools/count-results.py "$results") || rc=1
echo "$summary"
exit $rc
