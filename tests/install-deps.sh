#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine. Safe to run again: only what
# is missing is installed. Real components are started by the tests themselves, never here.
set -euo pipefail

packages=()
need() { command -v "$1" >/dev/null 2>&1 || packages+=("$2"); }
need python3 python3
[ -x /usr/sbin/haproxy ] || packages+=(haproxy)
[ -x /usr/sbin/sshd ] || packages+=(openssh-server)
[ -x /usr/bin/ssh-keygen ] || packages+=(openssh-client)
[ -x /usr/bin/sudo ] || packages+=(sudo)
[ -d /usr/lib/x86_64-linux-gnu/ejabberd-23.01 ] || packages+=(ejabberd)
# PostgreSQL 15 for the shared state store's tests (the tests run initdb and the server themselves).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || packages+=(postgresql)
# Docker for the lab's tests (tests/docker/with-docker.sh starts the daemon in a network namespace of
# its own) and debootstrap for the base image (no registry is reachable).
[ -x /usr/sbin/dockerd ] || packages+=(docker.io)
[ -x /usr/sbin/debootstrap ] || packages+=(debootstrap)
[ -x /usr/bin/docker-compose ] || packages+=(docker-compose)
command -v ip >/dev/null 2>&1 || packages+=(iproute2)
# Headless Chromium opens the run reports (screenshots, the rendered page); tmux is the pseudo-terminal the live
# view's tests read the screen of.
[ -x /usr/bin/chromium ] || packages+=(chromium fonts-dejavu-core)
need tmux tmux

if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing ${packages[*]}; run as root or install them" >&2
    exit 1
  fi
  # No daemon may start at install time; the tests start their own, on loopback.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi
