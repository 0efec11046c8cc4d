#!/usr/bin/env bash
# Installs the Debian packages the tests use when they are missing (run by `npm test`'s pretest).
# Why: the test suite starts real processes that need system tools a fresh machine lacks:
#   tini       PID-1 reaper, as in the image (test/e2e/pid1.test.ts)
#   iproute2   `ip netns`: network namespaces for the attribution and platform-edge tests
#   util-linux `unshare`: PID namespaces for the PID-1 tests
#   e2fsprogs  `chattr`: an immutable config file in a unit test
#   tmux       a terminal for `npm start` whose screen a test reads (test/e2e/terminal-screen.test.ts)
#   chromium   a headless browser (driven by playwright-core) that opens the Control UI locally and
#              from a network namespace as a person would (test/e2e/control-ui-browser.test.ts)
#   libjemalloc2 the allocator the image's supervisor runs on (src/host/pid1.ts): the benchmarks run
#              the supervisor on it as the image does
#   nginx, wrk test/bench-smoke.test.ts runs `npm run bench -- --smoke`, which compares the front
#              door with nginx and loads HTTP with wrk (bench/, BENCHMARKS.md)
#   podman, runc, debootstrap, iptables, catatonit
#              test/image/image.test.ts builds the image from the Dockerfile and runs it as deployed:
#              debootstrap makes the local base image (no image registry is reachable), podman builds
#              and runs it with runc (crun refuses these machines' hybrid cgroup layout), netavark
#              needs iptables for published ports, and `kube play` builds its pause image on catatonit
# Idempotent and silent when everything is there. When something is missing and this is not root
# with apt-get, it prints one line saying what is needed and how to get it, and fails, so that no
# test runs half-equipped.
set -euo pipefail

# Debian puts ip and nginx in /usr/sbin, which a non-root PATH often lacks.
PATH="$PATH:/usr/sbin:/sbin"

# Sets need=(the Debian packages whose command is missing).
find_missing() {
  need=()
  command -v tini >/dev/null || need+=(tini)
  command -v ip >/dev/null || need+=(iproute2)
  command -v unshare >/dev/null || need+=(util-linux)
  command -v chattr >/dev/null || need+=(e2fsprogs)
  command -v tmux >/dev/null || need+=(tmux)
  command -v chromium >/dev/null || need+=(chromium)
  command -v nginx >/dev/null || need+=(nginx)
  command -v wrk >/dev/null || need+=(wrk)
  command -v podman >/dev/null || need+=(podman)
  command -v runc >/dev/null || need+=(runc)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  command -v iptables >/dev/null || need+=(iptables)
  command -v catatonit >/dev/null || need+=(catatonit)
  [[ -e /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 || -e /usr/lib/aarch64-linux-gnu/libjemalloc.so.2 ]] || need+=(libjemalloc2)
}
find_missing
if ((${#need[@]} == 0)); then exit 0; fi

say() { printf '[ensure-system-packages] %s\n' "$*" >&2; }

if ! command -v apt-get >/dev/null; then
  say "the tests need these Debian packages, which are missing: ${need[*]}; install their equivalents with this system's package manager (or run npm test on Debian/Ubuntu as root), then run npm test again"
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  say "the tests need these Debian packages, which are missing: ${need[*]}; install them with: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${need[*]} (the tests need root anyway, for network and PID namespaces)"
  exit 1
fi

say "installing ${need[*]} with apt-get (once)"
# apt's output only matters when it fails: keep it and show it then.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  say "apt-get could not install ${need[*]} (its output is above); fix that, then run npm test again"
  exit 1
fi
find_missing
if ((${#need[@]} > 0)); then
  say "apt-get ran, but the commands of these packages are still not on PATH: ${need[*]}; check the installation, then run npm test again"
  exit 1
fi
