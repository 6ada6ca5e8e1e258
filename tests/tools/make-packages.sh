#!/usr/bin/env bash
# Makes the packages people install, into FOLDER: the .NET tool package (FOLDER/nupkg) and the
# self-contained single-file binary for linux-x64 (FOLDER/single/rollingupgrade, ReadyToRun).
# usage: tests/tools/make-packages.sh FOLDER
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$1
cli=src/RollingUpgrade.Cli/RollingUpgrade.Cli.csproj
dotnet pack "$cli" -c Release -o "$out/nupkg" -nologo -v quiet -warnaserror
dotnet publish "$cli" -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true \
  -p:PublishReadyToRun=true -o "$out/single" -nologo -v quiet -warnaserror
