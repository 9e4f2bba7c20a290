#!/usr/bin/env bash
# Runs inside a booted Debian 13 (systemd as PID 1, no network) with the .debs in /root/debs and
# the higher-version rebuild in /root/debs/upgrade. Each check prints one line; the first that
# fails ends the run with its reason.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
cd /root

started=$(date +%s)
ok() { echo "check ok: $* ($(($(date +%s) - started)) s)"; }
fail() {
  echo "check FAILED: $*"
  for unit in taskqueue-dispatcher taskqueue-workerpool taskqueue-api; do
    echo "--- journal of $unit"
    journalctl -u "$unit" --no-pager -n 40 -o cat || true
  done
  exit 1
}
# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
  local seconds=$1
  shift
  local deadline=$(($(date +%s) + seconds))
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}
main_pid() { systemctl show -P MainPID "$1"; }
# The pool's children; not the systemd-notify it runs now and then (STATUS=, WATCHDOG=1).
children() {
  ps --ppid "$(main_pid taskqueue-workerpool)" -o pid=,comm= | awk '$2 != "systemd-notify" { print $1 }' |
    sort -n || true
}
count_children() { [ "$(children | wc -l)" -eq "$1" ]; }
user_of() { ps -o user= -p "$1" | tr -d ' '; }
mode_of() { stat -c '%a %U %G' "$1"; }

# Submits $2 tasks of type $1 with fields {"batch": $3, "n": i}, 8 at a time.
submit() {
  local type=$1 count=$2 batch=$3
  seq 0 $((count - 1)) | xargs -P 8 -I{} taskqueue submit "$type" "{\"batch\":\"$batch\",\"n\":{}}" >/dev/null
}
# Takes results until $2 distinct n of batch $1 arrived (or $3 seconds passed); prints the count.
collect() {
  local batch=$1 want=$2 seconds=$3 file
  file=$(mktemp)
  local deadline=$(($(date +%s) + seconds))
  while :; do
    taskqueue results >>"$file"
    local got
    got=$(node -e '
      const [file, batch] = process.argv.slice(1);
      const seen = new Set();
      for (const line of require("fs").readFileSync(file, "utf8").split("\n")) {
        if (!line) continue;
        const fields = JSON.parse(line).result?.fields ?? {};
        if (fields.batch === batch && !fields.error) seen.add(fields.n);
      }
      console.log(seen.size);' "$file" "$batch")
    if [ "$got" -ge "$want" ] || [ "$(date +%s)" -ge "$deadline" ]; then
      echo "$got"
      rm -f "$file"
      return
    fi
    sleep 0.5
  done
}

# --- broker and packages ------------------------------------------------------------------------
systemctl start rabbitmq-server
timeout 60 rabbitmqctl -q await_startup || fail "rabbitmq-server did not start"
ok "rabbitmq-server $(dpkg-query -W -f '${Version}' rabbitmq-server) active"

apt-get install -y -q --no-install-recommends ./debs/taskqueue-*.deb >/tmp/apt.log 2>&1 ||
  { tail -20 /tmp/apt.log; fail "apt install of the .debs"; }
ok "apt install ./taskqueue-*.deb ($(dpkg-query -W -f '${Version}' taskqueue-common))"
getent passwd taskqueue >/dev/null || fail "system user taskqueue missing"
[ "$(systemctl is-enabled taskqueue-dispatcher)" = enabled ] || fail "dispatcher unit not enabled"
systemctl is-active --quiet taskqueue-dispatcher && fail "dispatcher started before being asked"
ok "user taskqueue exists; units enabled, not started"
conf_mode() { stat -c '%a %U %G' /etc/taskqueue/config.ini; }
[ "$(conf_mode)" = "640 root taskqueue" ] || fail "config.ini is $(conf_mode), want 640 root taskqueue"
ok "/etc/taskqueue/config.ini is 0640 root:taskqueue (it holds the broker password)"

# --- configuration: plugin children as their own users ------------------------------------------
useradd --system --user-group --home-dir /var/lib/builder --create-home builder
cat >/etc/taskqueue/config.ini <<'INI'
; edited by the system test: must survive the upgrade
[amqp]
host: localhost
user: guest
passwd: guest

[dispatcher]
metrics_listen: 127.0.0.1:9464

[workerpool]
shutdown_timeout: 20
metrics_listen: 127.0.0.1:9465

[tracking]
enabled: yes

[echo]
workers: 2
user: builder

[shell]
workers: 2
prefetch: 5
user: builder
command: /bin/sh -c "sleep 0.3; cat"
INI
taskqueue check-config >/dev/null || fail "check-config refuses the test config"
[ "$(conf_mode)" = "640 root taskqueue" ] || fail "config.ini is $(conf_mode) after the edit"
# builder is not in group taskqueue: the CLI says how to get access, and TASKQUEUE_AMQP_URL works.
status=0
runuser -u builder -- taskqueue check-config >/dev/null 2>/tmp/cli.err || status=$?
[ "$status" = 78 ] || fail "check-config as builder: exit $status, want 78"
grep -q 'join the group (adduser $USER taskqueue' /tmp/cli.err || fail "no group hint: $(cat /tmp/cli.err)"
grep -q 'passwd\|guest:guest' /tmp/cli.err && fail "the CLI's error shows the config: $(cat /tmp/cli.err)"
ok "builder cannot read config.ini: told to join group taskqueue"

systemctl start taskqueue-dispatcher taskqueue-workerpool ||
  fail "systemctl start (Type=notify: READY=1 never came?)"
for unit in taskqueue-dispatcher taskqueue-workerpool; do
  [ "$(systemctl is-active "$unit")" = active ] || fail "$unit not active"
done
ok "systemctl start: both active (readiness reported)"
[ "$(user_of "$(main_pid taskqueue-dispatcher)")" = taskqueue ] || fail "dispatcher not running as taskqueue"
wait_for 30 count_children 4 || fail "expected 4 children, have: $(children | tr '\n' ' ')"
for pid in $(children); do
  [ "$(user_of "$pid")" = builder ] || fail "child $pid runs as $(user_of "$pid"), not builder"
done
ok "dispatcher runs as taskqueue; 4 children, all as builder, none as root"
# Metrics (docs/metrics.md): the token postinst made, required by both endpoints under the units.
token_mode=$(stat -c '%a %U %G' /etc/taskqueue/metrics.token)
[ "$token_mode" = "640 root taskqueue" ] || fail "metrics.token is $token_mode, want 640 root taskqueue"
scrape() { # URL [TOKEN]: prints the HTTP status, then the body
  node -e 'const [u, t] = process.argv.slice(1);
    fetch(u, t ? { headers: { authorization: `Bearer ${t}` } } : {})
      .then(async (r) => console.log(`${r.status}\n${await r.text()}`))' "$@"
}
metrics_token=$(cat /etc/taskqueue/metrics.token)
scrape http://127.0.0.1:9464/metrics "$metrics_token" >/tmp/metrics.d
grep -qx 'taskqueue_dispatcher_connected 1' /tmp/metrics.d || fail "dispatcher metrics: $(head -3 /tmp/metrics.d)"
scrape http://127.0.0.1:9465/metrics "$metrics_token" >/tmp/metrics.p
grep -q '^taskqueue_group_children_running{group="echo",type="echo"} 2$' /tmp/metrics.p ||
  fail "pool metrics: $(grep children_running /tmp/metrics.p || head -3 /tmp/metrics.p)"
runuser -u builder -- cat /etc/taskqueue/metrics.token >/dev/null 2>&1 && fail "builder reads metrics.token"
[ "$(runuser -u builder -- bash -c "$(declare -f scrape); scrape http://127.0.0.1:9465/metrics" | head -1)" = 401 ] ||
  fail "the pool's metrics answer a local user without the token"
ok "metrics: both endpoints answer with the token (children 2/2), refuse builder without it"
# The results queue exists now (the children declared it); results never creates one. --peek
# takes nothing, so the counts below are not disturbed.
runuser -u builder -- env TASKQUEUE_AMQP_URL=amqp://guest:guest@localhost taskqueue results --peek \
  >/dev/null || fail "taskqueue results --peek as builder with TASKQUEUE_AMQP_URL"
ok "builder, outside group taskqueue, reaches the broker with TASKQUEUE_AMQP_URL"
journalctl -u taskqueue-workerpool -o cat -n 5 | head -1 | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => JSON.parse(s))' ||
  fail "the pool does not log JSON lines to the journal"
ok "journal holds JSON lines"

# --- taskqueue status, systemd's STATUS= line, the status sockets ------------------------------
status_ok() { taskqueue status >/tmp/status.out 2>&1; }
wait_for 30 status_ok || fail "taskqueue status as root: $(cat /tmp/status.out)"
for group in echo shell; do
  grep -Eq "^  $group +builder +2/2 +serving" /tmp/status.out || fail "taskqueue status: $(cat /tmp/status.out)"
done
grep -Eq '^dispatcher \(pid [0-9]+, up [0-9a-z]+\): consuming taskqueue;' /tmp/status.out ||
  fail "taskqueue status, the dispatcher: $(cat /tmp/status.out)"
status_pids=$(taskqueue status --json | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const pool = JSON.parse(s).daemons.find((d) => d.status?.daemon === "workerpool").status;
    console.log(pool.groups.flatMap((g) => g.children.map((c) => c.pid)).sort((a, b) => a - b).join(" "));
  })')
[ "$status_pids" = "$(children | sort -n | tr '\n' ' ' | sed 's/ $//')" ] ||
  fail "taskqueue status --json pids $status_pids, the pool's children $(children | tr '\n' ' ')"
ok "taskqueue status as root: echo 2/2, shell 2/2, the children's pids, the dispatcher consuming"
status_line() { systemctl status "$1" --no-pager 2>/dev/null | grep -q "Status: \"$2"; }
wait_for 10 status_line taskqueue-workerpool 'echo 2/2, shell 2/2"' ||
  fail "systemctl status taskqueue-workerpool: $(systemctl status taskqueue-workerpool --no-pager | head -5)"
wait_for 10 status_line taskqueue-dispatcher 'consuming taskqueue; ' ||
  fail "systemctl status taskqueue-dispatcher: $(systemctl status taskqueue-dispatcher --no-pager | head -5)"
ok "systemctl status shows STATUS=: \"$(systemctl show -P StatusText taskqueue-workerpool)\", \"$(systemctl show -P StatusText taskqueue-dispatcher)\""
[ "$(mode_of /run/taskqueue/workerpool)" = "755 root root" ] || fail "/run/taskqueue/workerpool is $(mode_of /run/taskqueue/workerpool)"
[ "$(mode_of /run/taskqueue/workerpool/status.sock)" = "660 root taskqueue" ] ||
  fail "the pool's socket is $(mode_of /run/taskqueue/workerpool/status.sock)"
[ "$(mode_of /run/taskqueue/dispatcher)" = "750 taskqueue taskqueue" ] || fail "/run/taskqueue/dispatcher is $(mode_of /run/taskqueue/dispatcher)"
[ "$(mode_of /run/taskqueue/dispatcher/status.sock)" = "660 taskqueue taskqueue" ] ||
  fail "the dispatcher's socket is $(mode_of /run/taskqueue/dispatcher/status.sock)"
status=0
runuser -u builder -- taskqueue status --socket /run/taskqueue/workerpool/status.sock >/dev/null 2>/tmp/status.err ||
  status=$?
[ "$status" = 77 ] && grep -q TQ_ERR_STATUS_DENIED /tmp/status.err ||
  fail "taskqueue status as builder (not in group taskqueue): exit $status, $(cat /tmp/status.err)"
useradd --system --no-create-home --groups taskqueue watcher
runuser -u watcher -- taskqueue status >/tmp/status.out 2>&1 || fail "taskqueue status as watcher (group taskqueue): $(cat /tmp/status.out)"
ok "status sockets 0660 root:taskqueue, taskqueue:taskqueue: builder refused (77), watcher of group taskqueue answered"

# --- 100 tasks --------------------------------------------------------------------------------
submit echo 100 hundred
got=$(collect hundred 100 90)
[ "$got" -eq 100 ] || fail "100 tasks submitted, $got results"
ok "100 tasks via taskqueue submit -> 100 results"

# --- taskqueue-api: tokens, the hardened unit, a submit through it ------------------------------
# Its package made an empty tokens file that only root and the service read (docs/api.md).
[ "$(mode_of /etc/taskqueue/api.tokens)" = "640 root taskqueue" ] ||
  fail "api.tokens is $(mode_of /etc/taskqueue/api.tokens), want 640 root taskqueue"
[ "$(systemctl is-enabled taskqueue-api)" = enabled ] || fail "taskqueue-api unit not enabled"
systemctl is-active --quiet taskqueue-api && fail "taskqueue-api started before being asked"
api_operate=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
api_read=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'system operate %s\nwatch read %s\n' "$api_operate" "$api_read" >>/etc/taskqueue/api.tokens
[ "$(mode_of /etc/taskqueue/api.tokens)" = "640 root taskqueue" ] || fail "api.tokens changed mode"
systemctl start taskqueue-api || fail "systemctl start taskqueue-api (READY=1 never came?)"
api_pid=$(main_pid taskqueue-api)
[ "$(user_of "$api_pid")" = taskqueue ] || fail "taskqueue-api runs as $(user_of "$api_pid")"
for property in User=taskqueue NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes \
  CapabilityBoundingSet= RestrictSUIDSGID=yes; do
  value=$(systemctl show -P "${property%%=*}" taskqueue-api)
  [ "$value" = "${property#*=}" ] || fail "taskqueue-api ${property%%=*}=$value, want ${property#*=}"
done
grep -q '^CapEff:[[:space:]]*0*$' "/proc/$api_pid/status" ||
  fail "taskqueue-api has capabilities: $(grep CapEff "/proc/$api_pid/status")"
[ "$(mode_of /var/lib/taskqueue/tasks.db)" = "600 taskqueue taskqueue" ] ||
  fail "the store is $(mode_of /var/lib/taskqueue/tasks.db), want 600 taskqueue taskqueue"
ok "taskqueue-api active as taskqueue (no capabilities, NoNewPrivileges, ProtectSystem=strict); its store 0600 in /var/lib/taskqueue"
# api METHOD PATH TOKEN [BODY]: prints the HTTP status, then the body (curl, as docs/api.md does).
api() {
  local method=$1 path=$2 token=$3 body=${4:-}
  local args=(-sS -o /tmp/api.body -w '%{http_code}' -X "$method" -H "Authorization: Bearer $token")
  [ -z "$body" ] || args+=(-H 'Content-Type: application/json' --data "$body")
  : >/tmp/api.body
  curl "${args[@]}" "http://127.0.0.1:8420$path" || printf 'curl failed'
  echo
  cat /tmp/api.body
}
# json PATH < "STATUS\nBODY": the value at the dotted path of the body ("" when absent).
json() {
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    let v; try { v = JSON.parse(s.slice(s.indexOf("\n") + 1)); } catch { v = undefined; }
    for (const k of process.argv[1].split(".")) v = v?.[k];
    console.log(v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : v);
  })' "$1"
}
answer=$(api POST /v1/tasks "$api_operate" '{"type":"echo","fields":{"via":"api"},"idempotencyKey":"system-1","reply":30}')
[ "$(head -1 <<<"$answer")" = 201 ] || fail "submit through the API: $answer"
task_id=$(json task.id <<<"$answer")
[ "$(json task.state <<<"$answer")" = succeeded ] || fail "the reply is not succeeded: $answer"
ok "curl POST /v1/tasks with reply: 201, task $task_id succeeded"
answer=$(api GET "/v1/tasks/$task_id" "$api_read")
[ "$(head -1 <<<"$answer")" = 200 ] || fail "GET /v1/tasks/$task_id: $answer"
[ "$(json task.state <<<"$answer")" = succeeded ] || fail "GET $task_id: $answer"
[ "$(json task.source <<<"$answer")" = api ] || fail "GET $task_id, source: $answer"
[ "$(json task.attempts.0.user <<<"$answer")" = builder ] || fail "GET $task_id, the attempt's user: $answer"
[ -n "$(json task.result <<<"$answer")" ] || fail "GET $task_id has no result: $answer"
answer=$(api GET /v1/tasks/00000000-0000-4000-8000-000000000000 "$api_read")
[ "$(head -1 <<<"$answer")" = 404 ] || fail "GET of an unknown id: $answer"
[ "$(json error.code <<<"$answer")" = TQ_ERR_API_TASK_NOT_FOUND ] || fail "GET of an unknown id: $answer"
answer=$(api POST /v1/tasks "$api_operate" '{"type":"echo","fields":{"via":"api"},"idempotencyKey":"system-1"}')
[ "$(head -1 <<<"$answer")" = 200 ] && [ "$(json task.id <<<"$answer")" = "$task_id" ] ||
  fail "the same idempotency key again: $answer"
answer=$(api POST /v1/tasks "$api_read" '{"type":"echo","fields":{}}')
[ "$(head -1 <<<"$answer")" = 403 ] || fail "a read token submits: $answer"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:8420/v1/tasks/$task_id")" = 401 ] ||
  fail "GET without a token is not 401"
ok "GET by id: succeeded, source api, run by builder, with its result; unknown id 404 TQ_ERR_API_TASK_NOT_FOUND; same key -> same id; read token cannot submit (403), none 401"
# The dashboard: taskqueue-api ships it and serves it at / with no token (its data needs one).
dashboard=/usr/lib/taskqueue/dist/dashboard/index.html
[ "$(dpkg -S "$dashboard" 2>/dev/null | cut -d: -f1)" = taskqueue-api ] ||
  fail "$dashboard is not taskqueue-api's: $(dpkg -S "$dashboard" 2>&1)"
page=$(curl -sS -w '\n%{http_code} %{content_type}' http://127.0.0.1:8420/) || page="curl failed"
[[ "$(tail -1 <<<"$page")" == "200 text/html"* ]] || fail "GET / answers $(tail -1 <<<"$page")"
grep -qi '<title>[^<]*taskqueue' <<<"$page" || fail "GET / is not the dashboard: $(head -c 300 <<<"$page")"
script=$(curl -sS -o /dev/null -w '%{http_code} %{content_type}' http://127.0.0.1:8420/assets/app.js) ||
  script="curl failed"
[[ "$script" == "200 "*javascript* ]] || fail "GET /assets/app.js answers $script"
ok "GET / answers the dashboard page (taskqueue-api's $dashboard) and /assets/app.js, no token"

# --- kill -9 of a child -------------------------------------------------------------------------
victim=$(children | head -1)
kill -9 "$victim"
replaced() { count_children 4 && ! children | grep -qx "$victim"; }
wait_for 30 replaced || fail "child $victim not replaced"
ok "kill -9 of child $victim -> replaced"

# --- reload with an edited count ------------------------------------------------------------------
# The live children of group $1, from the pool's transition log.
group_pids() { journalctl -u taskqueue-workerpool -o cat | node -e '
  const [group, ...live] = process.argv.slice(1);
  const alive = new Set(live.map(Number));
  const pids = new Set();
  for (const line of require("fs").readFileSync(0, "utf8").split("\n")) {
    try { const l = JSON.parse(line); if (l.group === group && l.to === "running") pids.add(l.childPid); } catch {}
  }
  console.log([...pids].filter((p) => alive.has(p)).sort().join(" "));' "$1" $(children); }
shell_pids() { group_pids shell; }
before_all=$(children | tr '\n' ' ')
before_shell=$(shell_pids)
[ -n "$before_shell" ] || fail "no running shell children found in the journal"
sed -i '/^\[echo\]/,/^\[/ s/^workers: 2/workers: 3/' /etc/taskqueue/config.ini
systemctl reload taskqueue-workerpool
wait_for 30 count_children 5 || fail "after reload: $(children | wc -l) children, want 5"
[ "$(shell_pids)" = "$before_shell" ] || fail "shell children changed on reload: $before_shell -> $(shell_pids)"
for pid in $before_all; do kill -0 "$pid" 2>/dev/null || fail "child $pid gone after reload"; done
submit echo 20 after-reload
got=$(collect after-reload 20 60)
[ "$got" -eq 20 ] || fail "after reload: 20 tasks, $got results"
ok "systemctl reload: echo 2 -> 3 children, the other children keep their PIDs, 20/20 answered"

# --- restart with tasks in flight -----------------------------------------------------------------
submit shell 50 restart
sleep 1 # the shell children hold 10 of them now, each takes 0.3 s
systemctl restart taskqueue-workerpool || fail "systemctl restart taskqueue-workerpool"
got=$(collect restart 50 120)
[ "$got" -eq 50 ] || fail "restart with 50 in flight: $got results"
ok "systemctl restart with 50 tasks in flight -> 50 results, none lost"

# --- a broken config fails once with 78 -----------------------------------------------------------
cp /etc/taskqueue/config.ini /root/config.good
printf '[echo]\nworkers: many\n' >>/etc/taskqueue/config.ini
systemctl restart taskqueue-dispatcher && fail "dispatcher started with a broken config"
sleep 8 # RestartSec=5: a restart loop would have shown by now
[ "$(systemctl show -P ExecMainStatus taskqueue-dispatcher)" = 78 ] || fail "exit status $(systemctl show -P ExecMainStatus taskqueue-dispatcher), want 78"
[ "$(systemctl show -P NRestarts taskqueue-dispatcher)" = 0 ] || fail "dispatcher restarted $(systemctl show -P NRestarts taskqueue-dispatcher) times"
[ "$(systemctl is-active taskqueue-dispatcher)" = failed ] || fail "dispatcher is $(systemctl is-active taskqueue-dispatcher), want failed"
ok "broken config -> dispatcher failed once with exit 78, no restart loop"
[ ! -e /run/taskqueue/dispatcher ] || fail "/run/taskqueue/dispatcher left after the dispatcher stopped"
taskqueue status --socket /run/taskqueue/workerpool/status.sock >/dev/null ||
  fail "the pool's status socket went with the dispatcher's runtime directory"
ok "the stopped dispatcher's runtime directory is gone, the pool's socket still answers"
cp /root/config.good /etc/taskqueue/config.ini
systemctl reset-failed taskqueue-dispatcher
systemctl start taskqueue-dispatcher || fail "dispatcher does not start again with the good config"

# --- priorities on RabbitMQ 4.0 -----------------------------------------------------------------
# docs/priorities.md: a backlog waits on worker_echo (dispatcher up, pool down), then one child
# with prefetch 1 answers it. Each queue type in a vhost of its own, with a config run by hand
# (systemd-run) beside the system's units. Low tasks are published first: FIFO would answer them
# first. Classic (max_priority = 5): strictly high first. Quorum on 4.0–4.2 (max_priority = 1):
# the broker's two levels, high favoured 2:1 (RabbitMQ's quorum-queue docs), so of 6 high and 6
# low the first two answers are high and the 6 high are done within the first 9.
AMQPLIB=/usr/lib/taskqueue/node_modules/amqplib
prio_publish() { # URL LOWS HIGHS PRIORITY: LOWS without priority, then HIGHS with PRIORITY
  node -e 'const amqp = require(process.argv[1]);
    const [url, lows, highs, priority] = process.argv.slice(2);
    (async () => {
      const c = await amqp.connect(url); const ch = await c.createConfirmChannel();
      const send = (id, p) => ch.publish("", "taskqueue",
        Buffer.from(JSON.stringify({ fields: { id, params: { worker_type: "echo" } } })),
        { persistent: true, correlationId: id, ...(p === undefined ? {} : { priority: p }) });
      for (let i = 0; i < +lows; i++) send(`low${i}`);
      for (let i = 0; i < +highs; i++) send(`high${i}`, +priority);
      await ch.waitForConfirms(); await c.close();
    })().catch((e) => { console.error(e.message); process.exit(1); });' "$AMQPLIB" "$@"
}
prio_ready() { # URL QUEUE: its ready messages (0 while it does not exist)
  node -e 'const amqp = require(process.argv[1]);
    (async () => { const c = await amqp.connect(process.argv[2]); c.on("error", () => {});
      const ch = await c.createChannel(); ch.on("error", () => {});
      console.log(await ch.checkQueue(process.argv[3]).then((q) => q.messageCount, () => 0));
      await c.close().catch(() => {}); })();' "$AMQPLIB" "$@"
}
prio_order() { # URL COUNT: the correlation ids of the first COUNT results, in the order answered
  node -e 'const amqp = require(process.argv[1]);
    const [url, count] = process.argv.slice(2);
    (async () => {
      const c = await amqp.connect(url); c.on("error", () => {});
      for (;;) { const probe = await c.createChannel(); probe.on("error", () => {});
        if (await probe.checkQueue("results").then(() => true, () => false)) break;
        await new Promise((r) => setTimeout(r, 300)); }
      const ch = await c.createChannel(); const ids = [];
      const timer = setTimeout(() => { console.log(ids.join(" ")); process.exit(1); }, 90_000);
      await ch.consume("results", (m) => { ids.push(m.properties.correlationId); ch.ack(m);
        if (ids.length === +count) { clearTimeout(timer); console.log(ids.join(" ")); process.exit(0); } });
    })().catch((e) => { console.error(e.message); process.exit(1); });' "$AMQPLIB" "$@"
}
prio_run() { # MODE MAX_PRIORITY PRIORITY: prints the order of 6 low then 6 high tasks answered
  local mode=$1 max=$2 priority=$3 url="amqp://guest:guest@localhost/prio-$1"
  rabbitmqctl -q add_vhost "prio-$mode" && rabbitmqctl -q set_permissions -p "prio-$mode" guest '.*' '.*' '.*' ||
    fail "vhost prio-$mode"
  cat >"/root/prio-$mode.ini" <<INI
[amqp]
url = $url
queue_type = $mode
[dispatcher]
status_socket =
[workerpool]
status_socket =
enabled = echo
[echo]
workers = 1
prefetch = 1
max_priority = $max
user = builder
INI
  systemd-run -q --unit "prio-$mode-dispatcher" /usr/bin/taskqueue-dispatcher -c "/root/prio-$mode.ini" ||
    fail "systemd-run the $mode dispatcher"
  dispatcher_consuming() { journalctl -u "prio-$mode-dispatcher" -o cat | grep -q 'dispatcher consuming'; }
  wait_for 30 dispatcher_consuming || fail "$mode dispatcher: $(journalctl -u "prio-$mode-dispatcher" -o cat | tail -5)"
  journalctl -u "prio-$mode-dispatcher" -o cat | grep -o '"msg":"worker_echo: [^"]*"' >"/tmp/prio-$mode.plan"
  prio_publish "$url" 6 6 "$priority" || fail "publishing the $mode backlog"
  backlog() { [ "$(prio_ready "$url" worker_echo)" = 12 ]; }
  wait_for 30 backlog || fail "$mode backlog: worker_echo holds $(prio_ready "$url" worker_echo), want 12"
  systemd-run -q --unit "prio-$mode-pool" /usr/bin/taskqueue-workerpool -c "/root/prio-$mode.ini" ||
    fail "systemd-run the $mode pool"
  prio_order "$url" 12 >"/tmp/prio-$mode.order" || fail "$mode: answered only $(cat "/tmp/prio-$mode.order")"
  systemctl stop "prio-$mode-pool" "prio-$mode-dispatcher"
}
rabbit_version=$(rabbitmqctl -q version)
prio_run classic 5 5
grep -q "worker_echo: 5 priority levels above 0 (classic, x-max-priority 5)" /tmp/prio-classic.plan ||
  fail "classic: what applies was not said: $(cat /tmp/prio-classic.plan)"
[ "$(cat /tmp/prio-classic.order)" = "high0 high1 high2 high3 high4 high5 low0 low1 low2 low3 low4 low5" ] ||
  fail "classic max_priority = 5 on RabbitMQ $rabbit_version answered $(cat /tmp/prio-classic.order)"
ok "priorities, classic max_priority = 5 on RabbitMQ $rabbit_version: the backlog answered high first"
prio_run quorum 1 1
grep -q "worker_echo: two levels normal/high (quorum, RabbitMQ $rabbit_version)" /tmp/prio-quorum.plan ||
  fail "quorum: what applies was not said: $(cat /tmp/prio-quorum.plan)"
read -ra answered <"/tmp/prio-quorum.order"
highs_by_9=$(printf '%s\n' "${answered[@]:0:9}" | grep -c '^high')
[ "${answered[0]}" = high0 ] && [ "${answered[1]}" = high1 ] && [ "$highs_by_9" = 6 ] ||
  fail "quorum max_priority = 1 on RabbitMQ $rabbit_version answered ${answered[*]}"
ok "priorities, quorum max_priority = 1 on RabbitMQ $rabbit_version: two levels, high favoured 2:1 (${answered[*]})"
# More levels than a 4.0 quorum queue has: refused once with 78, the message says what it accepts.
sed -i 's/^max_priority = 1$/max_priority = 3/' /root/prio-quorum.ini
status=0
/usr/bin/taskqueue-dispatcher -c /root/prio-quorum.ini >/tmp/prio-refused.log 2>&1 || status=$?
[ "$status" = 78 ] || fail "quorum max_priority = 3: dispatcher exit $status, want 78"
grep -q "TQ_ERR_PRIORITY_UNSUPPORTED" /tmp/prio-refused.log &&
  grep -q "This broker accepts max_priority = 1 on quorum queues" /tmp/prio-refused.log ||
  fail "quorum max_priority = 3 refusal: $(head -3 /tmp/prio-refused.log)"
ok "priorities, quorum max_priority = 3 on RabbitMQ $rabbit_version: refused with 78 (TQ_ERR_PRIORITY_UNSUPPORTED)"

# --- the watchdog: a pool whose event loop is stuck is restarted -----------------------------
[ "$(systemctl show -P WatchdogUSec taskqueue-workerpool)" = 30s ] ||
  fail "WatchdogUSec of the pool: $(systemctl show -P WatchdogUSec taskqueue-workerpool)"
[ "$(systemctl show -P WatchdogUSec taskqueue-dispatcher)" = 30s ] ||
  fail "WatchdogUSec of the dispatcher: $(systemctl show -P WatchdogUSec taskqueue-dispatcher)"
dropin=/etc/systemd/system/taskqueue-workerpool.service.d
mkdir -p "$dropin"
# TimeoutStopSec bounds the abort and final-kill phases after the timeout (90 s in the unit).
printf '[Service]\nWatchdogSec=3\nTimeoutStopSec=15\n' >"$dropin/watchdog.conf"
systemctl daemon-reload
systemctl restart taskqueue-workerpool || fail "restart with WatchdogSec=3"
wait_for 30 count_children 5 || fail "after the restart with WatchdogSec=3: $(children | wc -l) children"
stuck=$(main_pid taskqueue-workerpool)
sleep 7 # more than twice WatchdogSec: a pool that pings is not touched
[ "$(main_pid taskqueue-workerpool)" = "$stuck" ] || fail "the pool was restarted while it pinged the watchdog"
since=$(date '+%Y-%m-%d %H:%M:%S')
kill -STOP "$stuck"
restarted() {
  local pid
  pid=$(main_pid taskqueue-workerpool)
  [ "$pid" != 0 ] && [ "$pid" != "$stuck" ] && systemctl is-active --quiet taskqueue-workerpool
}
wait_for 120 restarted || fail "pool $stuck stopped with SIGSTOP was not restarted: $(systemctl status taskqueue-workerpool --no-pager | head -5)"
# systemd says "Watchdog timeout (limit 3s)!", then "Failed with result 'watchdog'".
journalctl -u taskqueue-workerpool --since "$since" --no-pager -o cat >/tmp/watchdog.log
grep -q "Failed with result 'watchdog'" /tmp/watchdog.log ||
  fail "the journal does not say the watchdog ended pool $stuck: $(tail -20 /tmp/watchdog.log)"
grep -q 'Watchdog timeout' /tmp/watchdog.log || echo "note: no 'Watchdog timeout' line (journald dropped it?)"
rm -rf "$dropin"
systemctl daemon-reload
systemctl restart taskqueue-workerpool || fail "restart without the drop-in"
wait_for 30 count_children 5 || fail "after the watchdog check: $(children | wc -l) children"
ok "watchdog: pool $stuck stopped (SIGSTOP) -> 'Watchdog timeout', restarted as $(main_pid taskqueue-workerpool)"

# --- what a plugin author takes from the host (docs/plugin-guide.md) ----------------------------
for tarball in taskqueue-plugin-api:dist/testing.js create-taskqueue-plugin:dist/main.js; do
  file="/usr/share/taskqueue/npm/${tarball%%:*}.tgz"
  tar -tzf "$file" | grep -x "package/${tarball#*:}" >/dev/null || fail "$file lacks ${tarball#*:}"
done
ok "the plugin API and the scaffold are in /usr/share/taskqueue/npm"

# --- a plugin shipped as a Debian package (docs/packaging.md) ------------------------------------
status=0
taskqueue-plugin-deb debs/plugin/left-pad-1.0.0.tgz --out /root/plugin-debs >/dev/null 2>/tmp/deb.err ||
  status=$?
[ "$status" = 65 ] && grep -q TQ_ERR_PLUGIN_DEB_INPUT /tmp/deb.err ||
  fail "taskqueue-plugin-deb on a package that is no plugin: exit $status, $(cat /tmp/deb.err)"
for version in 1.0.0 1.0.1; do
  taskqueue-plugin-deb "debs/plugin/taskqueue-plugin-stamp-$version.tgz" --out /root/plugin-debs \
    >/dev/null 2>/tmp/deb.err || fail "taskqueue-plugin-deb stamp $version: $(cat /tmp/deb.err)"
done
stamp_deb() { echo "/root/plugin-debs/taskqueue-plugin-stamp_$1-1_all.deb"; }
depends=$(dpkg-deb -f "$(stamp_deb 1.0.0)" Depends)
[ "$depends" = "taskqueue-common (>= 0.1.0), nodejs (>= 20.19)" ] || fail "plugin .deb depends on: $depends"
ok "taskqueue-plugin-deb: a package that is no plugin refused (65); stamp 1.0.0 and 1.0.1 built"

stamp_dir=/usr/lib/taskqueue/plugins/node_modules/taskqueue-plugin-stamp
# Asks one stamp task and prints the version of the plugin that answered it.
stamp_version() {
  timeout 30 taskqueue submit stamp '{"probe": 1}' --wait --timeout 20 2>/dev/null |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).fields.stamp))'
}
others=$(children | tr '\n' ' ')
apt-get install -y -q --no-install-recommends "$(stamp_deb 1.0.0)" >/tmp/apt.log 2>&1 ||
  { tail -20 /tmp/apt.log; fail "apt install of the plugin's .deb"; }
[ "$(stat -c '%U %a' "$stamp_dir")" = "root 755" ] || fail "$stamp_dir is $(stat -c '%U %a' "$stamp_dir")"
[ ! -e "$stamp_dir/node_modules" ] || fail "the plugin's .deb ships its own node_modules"
stamp_running() { [ -n "$(group_pids stamp)" ]; }
wait_for 30 stamp_running || fail "no stamp child after installing the plugin's .deb"
stamp_child=$(group_pids stamp)
[ "$(user_of "$stamp_child")" = taskqueue ] || fail "stamp child runs as $(user_of "$stamp_child")"
for pid in $others; do kill -0 "$pid" 2>/dev/null || fail "child $pid gone after the plugin's install"; done
[ "$(stamp_version)" = 1.0.0 ] || fail "stamp task not answered by stamp 1.0.0"
listed=$(taskqueue plugins 2>&1) || fail "taskqueue plugins: $listed"
grep -q "^stamp  taskqueue-plugin-stamp@1.0.0  $stamp_dir " <<<"$listed" || fail "taskqueue plugins: $listed"
ok "apt install of the plugin's .deb: the pool reloaded; stamp served by the host's plugin API, as taskqueue; other children kept"

apt-get install -y -q --no-install-recommends "$(stamp_deb 1.0.1)" >/tmp/apt.log 2>&1 ||
  { tail -20 /tmp/apt.log; fail "apt upgrade of the plugin's .deb"; }
replaced() {
  stamp_running && [ "$(group_pids stamp)" != "$stamp_child" ] && ! kill -0 "$stamp_child" 2>/dev/null
}
wait_for 30 replaced || fail "stamp child $stamp_child not restarted after the plugin's upgrade"
[ "$(stamp_version)" = 1.0.1 ] || fail "after the upgrade, stamp tasks not answered by 1.0.1"
for pid in $others; do kill -0 "$pid" 2>/dev/null || fail "child $pid gone after the plugin's upgrade"; done
ok "plugin upgrade 1.0.0 -> 1.0.1: the stamp child restarted with the new code, the others kept"

apt-get remove -y -q taskqueue-plugin-stamp >/tmp/apt.log 2>&1 ||
  { tail -20 /tmp/apt.log; fail "apt remove of the plugin"; }
[ ! -e "$stamp_dir" ] || fail "$stamp_dir left after apt remove"
stamp_gone() { ! stamp_running && count_children 5; }
wait_for 30 stamp_gone || fail "stamp children left after apt remove: $(group_pids stamp)"
consumers=$(rabbitmqctl -q list_queues name consumers | awk '$1 == "worker_stamp" { print $2 }')
[ "$consumers" = 0 ] || fail "worker_stamp has ${consumers:-no queue, or ?} consumers after apt remove"
for pid in $others; do kill -0 "$pid" 2>/dev/null || fail "child $pid gone after the plugin's removal"; done
ok "apt remove of the plugin: the pool reloaded and stopped serving stamp; the others kept"

# --- security exposure, for the README ------------------------------------------------------------
for unit in taskqueue-dispatcher taskqueue-workerpool taskqueue-api; do
  echo "security: $unit: $(systemd-analyze security "$unit" --no-pager | tail -1)"
done

# --- upgrade keeps the edited conffile ------------------------------------------------------------
chmod 0440 /etc/taskqueue/config.ini # an admin's choice of mode, which the upgrade must keep
apt-get install -y -q --no-install-recommends ./debs/upgrade/taskqueue-*.deb >/tmp/apt.log 2>&1 ||
  { tail -20 /tmp/apt.log; fail "upgrade"; }
new=$(dpkg-query -W -f '${Version}' taskqueue-common)
case "$new" in *systemtest*) ;; *) fail "upgrade did not install the rebuilt version ($new)" ;; esac
grep -q 'edited by the system test' /etc/taskqueue/config.ini || fail "upgrade replaced the edited conffile"
[ "$(conf_mode)" = "440 root taskqueue" ] || fail "upgrade changed config.ini to $(conf_mode)"
for unit in taskqueue-dispatcher taskqueue-workerpool taskqueue-api; do
  [ "$(systemctl is-active "$unit")" = active ] || fail "$unit not active after the upgrade"
done
stored_state() { [ "$(api GET "/v1/tasks/$task_id" "$api_read" | json task.state)" = succeeded ]; }
wait_for 30 stored_state || fail "after the upgrade, task $task_id is not in the API's store as succeeded"
submit echo 10 after-upgrade
got=$(collect after-upgrade 10 60)
[ "$got" -eq 10 ] || fail "after upgrade: $got/10 results"
ok "upgrade to $new keeps the edited conffile and its mode; the three units active, serving; the API's store kept"

# --- purge ----------------------------------------------------------------------------------------
apt-get purge -y -q taskqueue-common taskqueue-dispatcher taskqueue-workerpool taskqueue-api taskqueue-extra \
  >/tmp/apt.log 2>&1 || { tail -20 /tmp/apt.log; fail "apt purge"; }
for unit in taskqueue-dispatcher taskqueue-workerpool taskqueue-api; do
  [ ! -e "/usr/lib/systemd/system/$unit.service" ] && [ ! -e "/lib/systemd/system/$unit.service" ] ||
    fail "$unit.service still installed"
done
[ ! -e /var/lib/taskqueue ] || fail "/var/lib/taskqueue left behind"
[ ! -e /etc/taskqueue ] || fail "/etc/taskqueue left behind"
if pgrep -f '/usr/lib/taskqueue/' >/dev/null; then fail "taskqueue processes left: $(pgrep -af /usr/lib/taskqueue/)"; fi
ok "apt purge: units and /var/lib/taskqueue gone, no process left"
echo "all system checks passed"
