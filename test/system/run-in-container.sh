#!/usr/bin/env bash
# Run a system-test checks script inside a throw-away Debian trixie container
# booted with systemd (systemd-nspawn), so that the taskqueue .deb packages and
# their systemd units can be exercised for real without touching the host.
#
# Usage: test/system/run-in-container.sh DEB_DIR CHECKS_SCRIPT
#
#   DEB_DIR        directory copied (recursively) to /root/debs in the container
#   CHECKS_SCRIPT  copied to /root/checks.sh and run there as `bash /root/checks.sh`
#
# Exits with the checks' exit status, or non-zero with a "system: ERROR" line
# when the host/container setup fails.
#
# Environment:
#   TASKQUEUE_SYSTEM_CACHE   cache directory (default /var/cache/taskqueue-system-test)
#   TASKQUEUE_SYSTEM_MIRROR  Debian mirror   (default http://deb.debian.org/debian)
#
# Must run as root. The host does not need systemd as PID 1: the container is
# started with --register=no --keep-unit, so neither machined nor a host
# systemd is involved.

set -euo pipefail

# Bump whenever the rootfs recipe below changes, so stale caches are not reused.
readonly RECIPE_VERSION=3
readonly SUITE=trixie
readonly CONTAINER_HOSTNAME=tq-system
readonly CACHE_DIR="${TASKQUEUE_SYSTEM_CACHE:-/var/cache/taskqueue-system-test}"
readonly CACHE_TAR="${CACHE_DIR}/${SUITE}-base-v${RECIPE_VERSION}.tar"
readonly MIRROR="${TASKQUEUE_SYSTEM_MIRROR:-http://deb.debian.org/debian}"
readonly BOOT_TIMEOUT=60
readonly STOP_TIMEOUT=20
# Packages the tests need inside the container (on top of debootstrap minbase).
readonly ROOTFS_PACKAGES=(nodejs rabbitmq-server procps passwd ca-certificates curl)
# Environment the checks run with: nothing leaks in from the host.
readonly CHECKS_ENV=(
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  HOME=/root USER=root LOGNAME=root SHELL=/bin/bash LANG=C.UTF-8 TERM=dumb
)

export DEBIAN_FRONTEND=noninteractive

# ---------------------------------------------------------------- state ----
# Everything cleanup() may have to undo. Only PIDs recorded here are ever
# signalled, so we never touch processes this script did not start.
WORK=""           # per-run temp dir: rootfs, build dir, console log
NSPAWN_PID=""     # the systemd-nspawn we started in the background
CONTAINER_PID=""  # the container's PID 1 (host PID), child of NSPAWN_PID
CACHE_TMP=""      # half-written cache tarball, removed unless moved into place
BG_PID=""         # current interruptible() job (boot wait or checks)
CONSOLE_LOG=""
PHASE="startup"   # what we are doing, for the failure message
SIGNAL=""         # set when we are interrupted
CLEANED_UP=0
START_TIME=$SECONDS
PHASE_START=$SECONDS

say() { printf 'system: %s\n' "$*"; }
die() { printf 'system: ERROR: %s\n' "$*" >&2; exit 1; }
# Sets LAP to the seconds since the previous phase ended and restarts the
# phase clock. (Not a $(...) helper: a subshell could not reset the clock.)
LAP=0
lap() {
  LAP=$((SECONDS - PHASE_START))
  PHASE_START=$SECONDS
}

# -------------------------------------------------------------- cleanup ----
process_alive() {
  # A child that exited but was not reaped yet is a zombie: kill -0 would
  # still succeed on it, so look at the state letter in /proc/PID/stat.
  local pid=$1 stat
  stat=$(cat "/proc/${pid}/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# Mount points at or below $1, deepest first (so nested mounts go first).
mounts_under() {
  local root=$1
  awk -v root="$root" '$5 == root || index($5, root "/") == 1 { print $5 }' \
    /proc/self/mountinfo | sort -r
}

unmount_under() {
  local root=$1 mp
  while read -r mp; do
    [[ -n $mp ]] || continue
    umount "$mp" 2>/dev/null || umount --lazy "$mp" || true
  done < <(mounts_under "$root")
}

# Wait (bounded) until a process has exited; returns 1 on timeout.
# shellcheck disable=SC2317  # only reached via the EXIT trap
wait_gone() {
  local pid=$1 deadline=$((SECONDS + $2))
  while process_alive "$pid"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# Host-side nsenter processes started by this script (descendants of $$, but
# not inside the container's process tree).
# shellcheck disable=SC2317  # only reached via the EXIT trap
our_nsenters() {
  ps -e -o pid=,ppid=,comm= | awk -v root="$$" -v skip="${NSPAWN_PID:-x}" '
    { parent[$1] = $2; comm[$1] = $3 }
    END {
      for (p in parent) {
        if (comm[p] != "nsenter") continue
        for (q = parent[p]; q != "" && q > 1; q = parent[q]) {
          if (q == skip) break
          if (q == root) { print p; break }
        }
      }
    }'
}

# End whatever we still run in the container through nsenter (an interrupted
# checks script or boot wait) BEFORE powering it off. Why: at the end of a
# poweroff, systemd-shutdown SIGSTOPs every process in the container's PID
# namespace before SIGTERMing it. The process nsenter started there is one of
# them, but its parent, nsenter itself, lives on the host: it notices its
# child stopped, stops itself too (it mirrors job control) and then never
# reaps the child, so the zombie pins the container's PID 1 forever (even a
# SIGKILL cannot finish it). Killing nsenter instead would orphan the child
# to the host's init, which on this kind of host reaps lazily and delays the
# shutdown. So: SIGTERM nsenter's child and let nsenter reap it normally.
# shellcheck disable=SC2317  # only reached via the EXIT trap
end_nsenter_sessions() {
  local sig ns
  for sig in TERM KILL; do
    [[ -n $(our_nsenters) ]] || return 0
    for ns in $(our_nsenters); do
      pkill "-${sig}" -P "$ns" || true
      kill -s CONT "$ns" 2>/dev/null || true  # in case it stopped itself
    done
    local deadline=$((SECONDS + 5))
    while [[ -n $(our_nsenters) ]] && ((SECONDS < deadline)); do
      sleep 0.2
    done
  done
  # Last resort: detach (the child becomes an orphan of the host's init).
  for ns in $(our_nsenters); do
    kill -s KILL "$ns" 2>/dev/null || true
  done
}

# shellcheck disable=SC2317  # only reached via the EXIT trap
stop_container() {
  [[ -n $NSPAWN_PID ]] || return 0
  if process_alive "$NSPAWN_PID"; then
    local t0=$SECONDS
    end_nsenter_sessions
    # SIGRTMIN+4 asks systemd (the container's PID 1) for a clean poweroff;
    # SIGTERM to nspawn does the same via nspawn if PID 1 is not known yet.
    if [[ -n $CONTAINER_PID ]] && process_alive "$CONTAINER_PID"; then
      kill -s RTMIN+4 "$CONTAINER_PID" 2>/dev/null || true
    else
      kill -s TERM "$NSPAWN_PID" 2>/dev/null || true
    fi
    if ! wait_gone "$NSPAWN_PID" "$STOP_TIMEOUT"; then
      say "container did not stop within ${STOP_TIMEOUT} s, killing it"
      end_nsenter_sessions
      # SIGKILL to the container's PID 1 takes down its whole PID namespace
      # and lets nspawn exit by itself (and reap PID 1). SIGKILLing nspawn
      # first would leave the container running, orphaned.
      if [[ -n $CONTAINER_PID ]] && process_alive "$CONTAINER_PID"; then
        kill -s KILL "$CONTAINER_PID" 2>/dev/null || true
        wait_gone "$NSPAWN_PID" 5 || true
      fi
      kill -s KILL "$NSPAWN_PID" 2>/dev/null || true
    fi
    say "container stopped ($((SECONDS - t0)) s)"
  fi
  # Reap nspawn (our child) and a checks/boot-wait job that was interrupted,
  # so nothing is left behind as a zombie.
  wait "$NSPAWN_PID" 2>/dev/null || true
  if [[ -n $BG_PID ]]; then
    end_nsenter_sessions
    wait "$BG_PID" 2>/dev/null || true
  fi
  NSPAWN_PID=""
  CONTAINER_PID=""
}

# shellcheck disable=SC2317  # only reached via the EXIT trap
cleanup() {
  local rc=$?
  ((CLEANED_UP)) && return 0
  CLEANED_UP=1
  set +e
  trap '' INT TERM   # don't let a second Ctrl-C abort the cleanup halfway
  # Remember how far the console got before we shut the container down: the
  # interesting part is the boot, not the poweroff noise that follows.
  local console_bytes=0
  [[ -n $CONSOLE_LOG && -f $CONSOLE_LOG ]] && console_bytes=$(stat -c %s "$CONSOLE_LOG")
  stop_container
  if ((rc != 0 && console_bytes > 0)); then
    printf '\nsystem: last 50 lines of the container console before shutdown (exit %s):\n' "$rc" >&2
    # awk 1: terminates a last line lacking a newline (e.g. a "login:" prompt).
    head -c "$console_bytes" "$CONSOLE_LOG" | tail -n 50 | awk 1 >&2
    printf 'system: (end of console)\n' >&2
  fi
  [[ -n $CACHE_TMP ]] && rm -f "$CACHE_TMP"
  if [[ -n $WORK && -d $WORK ]]; then
    unmount_under "$WORK"
    if [[ -n $(mounts_under "$WORK") ]]; then
      # Never rm -rf across a still-mounted /proc, /dev, ... of the host.
      printf 'system: WARNING: still mounted under %s, not removing it:\n' "$WORK" >&2
      mounts_under "$WORK" >&2
    else
      # --one-file-system: belt and braces against a mount that appeared late.
      rm -rf --one-file-system "$WORK"
    fi
  fi
  if [[ -n $SIGNAL ]]; then
    printf 'system: ERROR: interrupted by SIG%s during %s\n' "$SIGNAL" "$PHASE" >&2
  elif ((rc != 0)) && [[ $PHASE != checks ]]; then
    # die() said why; this also covers a command failing under set -e.
    printf 'system: ERROR: setup failed during %s (exit %s)\n' "$PHASE" "$rc" >&2
  fi
  say "total $((SECONDS - START_TIME)) s, exit ${rc}"
  exit "$rc"
}

trap cleanup EXIT
# Turn signals into a normal exit so the EXIT trap does the cleanup once.
trap 'SIGNAL=INT; exit 130' INT
trap 'SIGNAL=TERM; exit 143' TERM

# ------------------------------------------------------------ arguments ----
(($# == 2)) || die "usage: $0 DEB_DIR CHECKS_SCRIPT"
DEB_DIR=$1
CHECKS_SCRIPT=$2
[[ -d $DEB_DIR ]] || die "DEB_DIR '${DEB_DIR}' is not a directory"
[[ -f $CHECKS_SCRIPT && -r $CHECKS_SCRIPT ]] || die "CHECKS_SCRIPT '${CHECKS_SCRIPT}' is not a readable file"
((EUID == 0)) || die "must run as root (debootstrap, systemd-nspawn, nsenter)"

# ----------------------------------------------------------- host tools ----
ensure_host_tools() {
  PHASE="host tools"
  local missing=()
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
  # nsenter and flock both come from util-linux.
  { command -v nsenter && command -v flock; } >/dev/null || missing+=(util-linux)
  command -v pgrep >/dev/null || missing+=(procps)
  if ((${#missing[@]})); then
    say "installing on host: ${missing[*]}"
    # Some configured third-party sources may be unreachable; a partial
    # update is fine as long as the install itself then succeeds.
    apt-get update -q || say "apt-get update reported errors, trying the install anyway"
    apt-get install -y -q --no-install-recommends "${missing[@]}" \
      || die "could not install host packages: ${missing[*]}"
  fi
  lap
  say "host tools ready (${LAP} s)"
}

# --------------------------------------------------------------- rootfs ----
# Run a command in the build chroot with a clean environment.
in_chroot() {
  local root=$1
  shift
  chroot "$root" /usr/bin/env -i "${CHECKS_ENV[@]}" DEBIAN_FRONTEND=noninteractive "$@"
}

build_rootfs() {
  local root=$1
  say "building ${SUITE} rootfs (recipe v${RECIPE_VERSION}) in ${root}"
  mkdir -p "$root"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus \
    "$SUITE" "$root" "$MIRROR" || die "debootstrap failed"

  # apt/dpkg maintainer scripts want /proc and /sys; /dev/pts for apt's ptys.
  # debootstrap already created the basic /dev nodes, so /dev itself is not
  # bind-mounted (less host state to leak into, less to unmount).
  mount -t proc proc "${root}/proc"
  mount -t sysfs sysfs "${root}/sys"
  mkdir -p "${root}/dev/pts"
  mount -t devpts -o newinstance,ptmxmode=0666 devpts "${root}/dev/pts"

  # Network access during the build comes from the host's resolver.
  cp -L /etc/resolv.conf "${root}/etc/resolv.conf"
  # Maintainer scripts must not start services inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"${root}/usr/sbin/policy-rc.d"
  chmod 0755 "${root}/usr/sbin/policy-rc.d"

  in_chroot "$root" apt-get update -q || die "apt-get update in the chroot failed"
  in_chroot "$root" apt-get install -y -q --no-install-recommends "${ROOTFS_PACKAGES[@]}" \
    || die "apt-get install in the chroot failed"
  in_chroot "$root" apt-get clean

  rm -f "${root}/usr/sbin/policy-rc.d"
  unmount_under "$root"
  [[ -z $(mounts_under "$root") ]] || die "could not unmount the build chroot"

  # Static hostname; RabbitMQ's node name is rabbit@<hostname> and the
  # container has no DNS (--private-network), so it must resolve via
  # /etc/hosts or rabbitmq-server fails to start.
  printf '%s\n' "$CONTAINER_HOSTNAME" >"${root}/etc/hostname"
  cat >"${root}/etc/hosts" <<EOF
127.0.0.1	localhost
127.0.1.1	${CONTAINER_HOSTNAME}
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF
  # apt's daily timers would run apt/dpkg at a random moment after boot and
  # could hold the dpkg lock while the checks install packages (and they can
  # only fail without network anyway).
  local unit
  for unit in apt-daily.timer apt-daily-upgrade.timer; do
    ln -sfn /dev/null "${root}/etc/systemd/system/${unit}"
  done
  # No resolver in the container; don't leave the host's config behind.
  : >"${root}/etc/resolv.conf"
  # Every run gets its own machine-id (written before boot); an empty one in
  # the image keeps the cache free of a baked-in identity.
  : >"${root}/etc/machine-id"
  rm -f "${root}/var/lib/dbus/machine-id"
}

ensure_rootfs_cache() {
  PHASE="rootfs cache"
  mkdir -p "$CACHE_DIR"
  # Serialise concurrent builders; the second one then finds the cache.
  local lock_fd
  exec {lock_fd}>"${CACHE_DIR}/.build.lock"
  flock "$lock_fd"
  if [[ -f $CACHE_TAR ]]; then
    lap
    say "rootfs cached (${LAP} s)"
  else
    local build="${WORK}/build"
    build_rootfs "$build"
    # Write next to the final name and rename, so a crash never leaves a
    # truncated tarball under the cache name.
    CACHE_TMP=$(mktemp "${CACHE_TAR}.tmp.XXXXXX")
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$build" -cf "$CACHE_TMP" .
    chmod 0644 "$CACHE_TMP"
    mv -f "$CACHE_TMP" "$CACHE_TAR"
    CACHE_TMP=""
    # Tarballs of older recipe versions are dead weight (~450 MB each).
    find "$CACHE_DIR" -maxdepth 1 -name "${SUITE}-base-v*.tar" ! -path "$CACHE_TAR" -delete
    rm -rf --one-file-system "$build"
    lap
    say "rootfs built: ${CACHE_TAR} ($(du -h "$CACHE_TAR" | cut -f1)) (${LAP} s)"
  fi
  flock -u "$lock_fd"
  exec {lock_fd}>&-
}

prepare_rootfs() {
  PHASE="rootfs preparation"
  local root=$1
  mkdir -p "$root"
  tar --numeric-owner --xattrs --xattrs-include='*' -C "$root" -xpf "$CACHE_TAR"
  # Fresh machine-id per run (a non-empty one also keeps ConditionFirstBoot
  # false, so systemd-firstboot never prompts on the console).
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"${root}/etc/machine-id"
  printf '\n' >>"${root}/etc/machine-id"
  mkdir -p "${root}/root/debs"
  # "/." copies the contents, including sub-directories such as upgrade/;
  # -L: symlinks (e.g. to freshly built .debs) would dangle in the container.
  cp -RL "${DEB_DIR}/." "${root}/root/debs/"
  install -m 0755 "$CHECKS_SCRIPT" "${root}/root/checks.sh"
  lap
  say "rootfs prepared in ${root} (${LAP} s)"
}

# ------------------------------------------------------------ container ----
# Run a command inside the container's namespaces with a clean environment.
# --default-signal: commands started in the background by this script inherit
# SIGINT/SIGQUIT as ignored (bash does that for async jobs); give the checks
# normal signal dispositions again.
in_container() {
  nsenter -t "$CONTAINER_PID" -m -u -i -n -p -C -- \
    /usr/bin/env -i --default-signal "${CHECKS_ENV[@]}" "$@"
}

# Host PID of the container's PID 1: the child of nspawn whose comm is
# "systemd" (matching the name means it has exec'ed, i.e. its namespaces are
# final and nsenter can join them).
find_container_pid() {
  pgrep -P "$NSPAWN_PID" -x systemd | head -n 1 | grep .
}

# Run a command in the background and wait for it: unlike a foreground child,
# `wait` returns as soon as a trapped signal (INT/TERM) arrives, so cleanup
# is not delayed until a long-running checks script finishes by itself.
interruptible() {
  "$@" &
  BG_PID=$!
  local rc=0
  wait "$BG_PID" || rc=$?
  BG_PID=""
  return "$rc"
}

boot_container() {
  PHASE="boot"
  local root=$1 machine
  machine="tq-system-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
  CONSOLE_LOG="${WORK}/console.log"
  # stdin from /dev/null: nspawn then uses a read-only console and writes the
  # boot output to the log instead of grabbing our terminal.
  # SYSTEMD_COLORS=0: plain-text console log instead of ANSI escape codes.
  systemd-nspawn -D "$root" --boot --private-network --register=no --keep-unit \
    --machine="$machine" --setenv=SYSTEMD_COLORS=0 </dev/null >"$CONSOLE_LOG" 2>&1 &
  NSPAWN_PID=$!

  local deadline=$((SECONDS + BOOT_TIMEOUT))
  until CONTAINER_PID=$(find_container_pid); do
    process_alive "$NSPAWN_PID" || die "systemd-nspawn exited during startup"
    ((SECONDS < deadline)) || die "container PID 1 did not appear within ${BOOT_TIMEOUT} s"
    sleep 0.2
  done

  # `is-system-running --wait` blocks until boot finished; before systemd's
  # private socket exists it prints "offline" at once, so retry until the
  # deadline.
  local state=""
  while :; do
    process_alive "$NSPAWN_PID" || die "container exited during boot"
    local left=$((deadline - SECONDS))
    ((left > 0)) || break
    # Via a file, not $(...): a command substitution would defer our signal
    # traps until it returns.
    interruptible timeout "$left" nsenter -t "$CONTAINER_PID" -m -u -i -n -p -C -- \
      systemctl is-system-running --wait >"${WORK}/state" 2>/dev/null || true
    state=$(<"${WORK}/state")
    case $state in
      running | degraded) break ;;
      *) sleep 0.5 ;;
    esac
  done
  lap
  case $state in
    running) say "booted ${machine} in ${LAP} s (running)" ;;
    degraded)
      say "booted ${machine} in ${LAP} s (degraded)"
      in_container systemctl --failed --no-pager || true
      ;;
    *)
      say "container state '${state:-unknown}' after ${BOOT_TIMEOUT} s; pending jobs:"
      in_container systemctl list-jobs --no-pager >&2 || true
      die "container did not finish booting within ${BOOT_TIMEOUT} s"
      ;;
  esac
}

run_checks() {
  PHASE="checks"
  say "running $(basename "$CHECKS_SCRIPT") in the container"
  local rc=0
  interruptible in_container /bin/sh -c 'cd /root && exec bash /root/checks.sh' </dev/null || rc=$?
  lap
  say "checks finished with exit ${rc} (${LAP} s)"
  return "$rc"
}

# ----------------------------------------------------------------- main ----
ensure_host_tools
WORK=$(mktemp -d /var/tmp/tq-system.XXXXXX)
ensure_rootfs_cache
prepare_rootfs "${WORK}/rootfs"
boot_container "${WORK}/rootfs"
checks_rc=0
run_checks || checks_rc=$?
exit "$checks_rc"
