#!/bin/sh
# Watchdog of a private RabbitMQ node (dev/src/rabbitmq-node.ts starts it, detached, at the
# node's first start and SIGKILLs it at stop()). When the owning process is gone without
# stopping its node (Ctrl-C, crash, SIGKILL), it stops the server and the epmd named in node.json
# at that moment (so restart() needs no new watchdog) and removes a temporary directory.
#
# Usage: tq-rabbit-watchdog.sh DIR OWNER_PID REMOVE(0|1) GRACE_SECONDS
# The reaper in rabbitmq-node.ts recognises a watchdog by this file's name in its command line.
dir=$1; owner=$2; remove=$3; grace=$4
running() {
  kill -0 "$1" 2>/dev/null || return 1
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
  [ "$state" != Z ]
}
field() {
  sed -n "s/.*\"$1\": *\([0-9][0-9]*\).*/\1/p" "$dir/node.json" 2>/dev/null | head -n 1
}
while running "$owner"; do sleep 1; done
group=$(field serverPid)
epmd=$(field epmdPid)
if [ -n "$group" ] && kill -0 "$group" 2>/dev/null; then
  kill -TERM "$group" 2>/dev/null
  i=0
  while kill -0 -"$group" 2>/dev/null && [ "$i" -lt "$grace" ]; do sleep 1; i=$((i+1)); done
  kill -KILL -"$group" 2>/dev/null
fi
[ -n "$epmd" ] && kill -TERM "$epmd" 2>/dev/null
[ "$remove" = 1 ] && rm -rf -- "$dir"
exit 0
