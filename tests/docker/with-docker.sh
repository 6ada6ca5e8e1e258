#!/usr/bin/env bash
# Runs a command with a Docker daemon of its own: dockerd starts inside a network namespace made
# here (`unshare -n`, loopback up), so the bridge and every container address exist only inside it,
# and the command runs in the same namespace. No registry is reachable, so the base image
# `local/debian:bookworm` is made from Debian 12 with debootstrap (outside the namespace, where
# Debian's mirror is reachable; cached between runs) and imported. Containers and the daemon are
# stopped by id and pid when the command ends, whatever its outcome.
#
# When Docker cannot start, the command still runs, with ROLLINGUPGRADE_DOCKER_UNAVAILABLE set to
# the reason: the tests that need Docker report themselves skipped with it.
#
# usage: tests/docker/with-docker.sh COMMAND [ARGS...]
set -uo pipefail

cache=${ROLLINGUPGRADE_LAB_CACHE:-/var/cache/rollingupgrade-lab}
base_tar="$cache/debian-bookworm-lab.tar"
# Everything the lab's images need comes from the base: a Dockerfile's RUN has no route to a mirror.
packages=openssh-server,ejabberd,haproxy,ca-certificates,procps,iproute2,curl,sudo,passwd

run_without() {
  local reason=$1
  shift
  echo "with-docker: Docker tests will be skipped: $reason" >&2
  ROLLINGUPGRADE_DOCKER_UNAVAILABLE="$reason" "$@"
  exit $?
}

[ "$(id -u)" = 0 ] || run_without "not root: dockerd needs root here" "$@"
command -v dockerd >/dev/null || run_without "dockerd is not installed (apt-get install docker.io)" "$@"
command -v unshare >/dev/null || run_without "unshare is missing" "$@"

if [ ! -s "$base_tar" ]; then
  command -v debootstrap >/dev/null || run_without "debootstrap is not installed" "$@"
  mkdir -p "$cache"
  rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
  echo "with-docker: making the base image (debootstrap of Debian 12 with $packages; a few minutes, once)" >&2
  if ! debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" >"$cache/debootstrap.log" 2>&1; then
    rm -rf "$rootfs"
    run_without "debootstrap failed (see $cache/debootstrap.log)" "$@"
  fi
  # No daemon may start inside an image at install time; the lab's entrypoints start what they need.
  rm -f "$rootfs"/etc/ssh/ssh_host_*
  tar -C "$rootfs" -cf "$base_tar.tmp" . && mv "$base_tar.tmp" "$base_tar"
  rm -rf "$rootfs"
fi

state=$(mktemp -d /tmp/ru-docker.XXXXXX)
export ROLLINGUPGRADE_DOCKER_STATE=$state DOCKER_HOST="unix://$state/docker.sock"
# Debian's daemon (20.10) speaks API 1.41; Testcontainers asks for 1.44 unless told.
export TESTCONTAINERS_RYUK_DISABLED=true DOCKER_API_VERSION=1.41 ROLLINGUPGRADE_LAB_BASE_TAR=$base_tar

# Inside the namespace: loopback up, the daemon started (by pid file), the base imported, the
# command run; then every container removed by id and the daemon stopped by its pid.
unshare -n -- bash -c '
  set -uo pipefail
  ip link set lo up
  dockerd --data-root "$ROLLINGUPGRADE_DOCKER_STATE/data" --exec-root "$ROLLINGUPGRADE_DOCKER_STATE/exec" \
    -H "$DOCKER_HOST" --pidfile "$ROLLINGUPGRADE_DOCKER_STATE/docker.pid" \
    >"$ROLLINGUPGRADE_DOCKER_STATE/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  if docker info >/dev/null 2>&1 && docker import - local/debian:bookworm <"$ROLLINGUPGRADE_LAB_BASE_TAR" >/dev/null; then
    "$@"
    rc=$?
  else
    echo "with-docker: Docker tests will be skipped: dockerd did not start (see $ROLLINGUPGRADE_DOCKER_STATE/dockerd.log)" >&2
    tail -5 "$ROLLINGUPGRADE_DOCKER_STATE/dockerd.log" >&2
    ROLLINGUPGRADE_DOCKER_UNAVAILABLE="dockerd did not start: $(tail -1 "$ROLLINGUPGRADE_DOCKER_STATE/dockerd.log")" "$@"
    rc=$?
  fi
  ids=$(docker ps -aq 2>/dev/null)
  [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
  if [ -s "$ROLLINGUPGRADE_DOCKER_STATE/docker.pid" ]; then
    pid=$(cat "$ROLLINGUPGRADE_DOCKER_STATE/docker.pid")
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  exit $rc
' with-docker "$@"
rc=$?
umount -R "$state/exec" 2>/dev/null || true
rm -rf "$state" 2>/dev/null || true
exit $rc
