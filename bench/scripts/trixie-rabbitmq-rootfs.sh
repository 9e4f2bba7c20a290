#!/usr/bin/env bash
# Builds (once) the Debian trixie root filesystem that `npm run bench -- --rabbitmq 4.0` runs its
# private RabbitMQ 4.0 from: trixie's rabbitmq-server needs Erlang 26+, which bookworm does not
# have, so it runs chrooted in a debootstrapped trixie (the recipe of test/system/
# run-in-container.sh, without systemd: the bench starts the server itself). Prints the rootfs's
# path; a second caller waits on the lock and then finds it built.
#
# Usage: bench/scripts/trixie-rabbitmq-rootfs.sh
# Environment: TASKQUEUE_BENCH_CACHE (default /var/cache/taskqueue-bench),
#              TASKQUEUE_SYSTEM_MIRROR (default http://deb.debian.org/debian). Must run as root.
set -euo pipefail

# Bump whenever the recipe below changes, so that a stale rootfs is not reused.
readonly RECIPE_VERSION=1
readonly SUITE=trixie
readonly CACHE_DIR="${TASKQUEUE_BENCH_CACHE:-/var/cache/taskqueue-bench}"
readonly ROOTFS="${CACHE_DIR}/${SUITE}-rabbitmq-v${RECIPE_VERSION}"
readonly MIRROR="${TASKQUEUE_SYSTEM_MIRROR:-http://deb.debian.org/debian}"
readonly CHROOT_ENV=(PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive)

say() { printf 'trixie-rootfs: %s\n' "$*" >&2; }
((EUID == 0)) || { say 'must run as root (debootstrap, chroot)'; exit 1; }

BUILD=""
mounts_under() {
  awk -v root="$1" '$5 == root || index($5, root "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}
cleanup() {
  local rc=$?
  if [[ -n $BUILD && -d $BUILD ]]; then
    while read -r mp; do [[ -n $mp ]] && { umount "$mp" 2>/dev/null || umount --lazy "$mp"; }; done \
      < <(mounts_under "$BUILD")
    # Never rm -rf across a still-mounted /proc of the host.
    [[ -z $(mounts_under "$BUILD") ]] && rm -rf --one-file-system "$BUILD"
  fi
  exit "$rc"
}
trap cleanup EXIT

mkdir -p "$CACHE_DIR"
exec {lock}>"${CACHE_DIR}/.build.lock"
flock "$lock"
if [[ -x ${ROOTFS}/usr/lib/rabbitmq/bin/rabbitmq-server ]]; then
  echo "$ROOTFS"
  exit 0
fi
command -v debootstrap >/dev/null || {
  say 'installing debootstrap'
  apt-get install -y -q --no-install-recommends debootstrap >&2
}
BUILD=$(mktemp -d "${CACHE_DIR}/.build-${SUITE}.XXXXXX")
say "building the ${SUITE} rootfs in ${BUILD} (some minutes, once)"
debootstrap --variant=minbase "$SUITE" "$BUILD" "$MIRROR" >&2
mount -t proc proc "${BUILD}/proc"
cp -L /etc/resolv.conf "${BUILD}/etc/resolv.conf"
# Maintainer scripts must not start the server inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"${BUILD}/usr/sbin/policy-rc.d"
chmod 0755 "${BUILD}/usr/sbin/policy-rc.d"
chroot "$BUILD" /usr/bin/env -i "${CHROOT_ENV[@]}" apt-get update -q >&2
chroot "$BUILD" /usr/bin/env -i "${CHROOT_ENV[@]}" \
  apt-get install -y -q --no-install-recommends rabbitmq-server procps >&2
chroot "$BUILD" /usr/bin/env -i "${CHROOT_ENV[@]}" apt-get clean
rm -f "${BUILD}/usr/sbin/policy-rc.d"
: >"${BUILD}/etc/resolv.conf"
# The node is <name>@localhost: it must resolve inside the chroot (debootstrap copies the host's).
grep -qw localhost "${BUILD}/etc/hosts" 2>/dev/null || echo '127.0.0.1 localhost' >>"${BUILD}/etc/hosts"
umount "${BUILD}/proc"
# Where the bench puts each node's directory (config, data, logs), inside the rootfs.
mkdir -p "${BUILD}/bench-nodes"
chmod 0755 "$BUILD"
mv "$BUILD" "$ROOTFS"
BUILD=""
say "built ${ROOTFS}: rabbitmq-server $(chroot "$ROOTFS" dpkg-query -W -f '${Version}' rabbitmq-server)"
echo "$ROOTFS"
