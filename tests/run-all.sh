#!/usr/bin/env bash
# The whole test suite: installs what the tests need, builds with warnings as errors, runs
# every test project, and ends with "N passed, N failed, N skipped" from the test results.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/install-deps.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 AWS_EC2_METADATA_DISABLED=true

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
dotnet build RollingUpgrade.sln -c Release -warnaserror -nologo -v quiet
set +e
dotnet test RollingUpgrade.sln -c Release --no-build --nologo \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results"
rc=$?
set -e
summary=$(python3 tests/tools/count-results.py "$results") || rc=1
echo "$summary"
exit $rc
