#!/usr/bin/env bash
# Build agentscale's offline base image from Debian packages, with no container registry.
#
#   scripts/build-base-image.sh [--force] [--tag IMAGE] [--mirror URL] [--suite SUITE]
#                               [--extra-packages PKG,PKG...]
#
# debootstrap installs a minimal Debian (bookworm by default) into a temporary folder, with
# what rollouts and grading need: bash, coreutils (timeout), python3 with pytest, git, patch,
# diffutils, tmux, less, procps. The folder is then imported with `docker import`.
# Idempotent: exits 0 at once when the image already exists (unless --force).
# Needs: root (or sudo), debootstrap, a reachable Debian mirror, a running Docker engine. When
# debootstrap is missing and we are root with apt-get, it is installed (said on stderr).
# --extra-packages adds Debian packages (the offline SWE-bench base images add a compiler,
# python3-venv and python3-dev this way: `agentscale images build-swe`).
set -euo pipefail

usage() {
  cat <<'USAGE'
Build agentscale's offline base image from Debian packages, with no container registry.

  build-base-image.sh [--force] [--tag IMAGE] [--mirror URL] [--suite SUITE]
                     [--extra-packages PKG,PKG...]

debootstrap installs a minimal Debian (bookworm by default) with bash, coreutils (timeout),
python3 with pytest, git, patch, diffutils, tmux, less and procps, then `docker import`s it.
Idempotent: exits 0 at once when the image already exists (unless --force).
--extra-packages adds comma-separated Debian packages to that list.
Needs: root (or sudo), debootstrap (installed with apt-get when missing and run as root), a
reachable Debian mirror, a running Docker engine.
Also run by `agentscale images build-base` (the binary embeds this script).
USAGE
}

TAG="${AGENTSCALE_BASE_IMAGE:-agentscale/base:bookworm}"
MIRROR="${AGENTSCALE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE="bookworm"
EXTRA=""
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --tag|--mirror|--suite|--extra-packages)
      if [ $# -lt 2 ] || [ -z "$2" ]; then
        echo "build-base-image: $1 needs a value" >&2; exit 2
      fi
      case "$1" in
        --tag) TAG="$2" ;; --mirror) MIRROR="$2" ;; --suite) SUITE="$2" ;;
        --extra-packages) EXTRA="$2" ;;
      esac
      shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-base-image: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

if ! docker info >/dev/null 2>&1; then
  echo "build-base-image: no Docker engine reachable (is dockerd running? is DOCKER_HOST right?)" >&2
  exit 3
fi
if [ "$FORCE" = 0 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "build-base-image: $TAG already exists; nothing to do (use --force to rebuild)" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "build-base-image: debootstrap needs root; run as root or install sudo" >&2; exit 2
  fi
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "build-base-image: debootstrap is not installed; installing it with apt-get (needed once for the offline base images)" >&2
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap; } >&2; then
      echo "build-base-image: installing debootstrap failed; run: apt-get update && apt-get install -y debootstrap" >&2
      exit 2
    fi
  else
    echo "build-base-image: debootstrap is not installed; run: sudo apt-get install -y debootstrap" >&2
    exit 2
  fi
fi

PACKAGES="bash,coreutils,ca-certificates,python3,python3-pytest,git,patch,diffutils,tmux,less,procps,findutils,grep,sed,gawk,file,ncurses-base"
case "$EXTRA" in
  *[!a-z0-9.+,-]*) echo "build-base-image: --extra-packages takes Debian package names separated by commas: $EXTRA" >&2; exit 2 ;;
  ?*) PACKAGES="$PACKAGES,$EXTRA" ;;
esac
WORK="$(mktemp -d "${TMPDIR:-/tmp}/agentscale-base.XXXXXX")"
cleanup() { $SUDO rm -rf "$WORK"; }
trap cleanup EXIT

echo "build-base-image: debootstrap $SUITE from $MIRROR into $WORK/rootfs (a few minutes)" >&2
$SUDO debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
  echo "build-base-image: debootstrap failed; last lines of its log:" >&2
  tail -n 30 "$WORK/debootstrap.log" >&2
  exit 1
}
# Trim what images never need, and set git identity and safe.directory for /testbed.
$SUDO rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb "$WORK/rootfs/var/lib/apt/lists/"* \
  "$WORK/rootfs/usr/share/doc" "$WORK/rootfs/usr/share/man" "$WORK/rootfs/usr/share/info"
cat <<'GITCFG' | $SUDO tee "$WORK/rootfs/etc/gitconfig" >/dev/null
[user]
	name = agentscale
	email = agentscale@localhost
[safe]
	directory = *
[init]
	defaultBranch = main
GITCFG

echo "build-base-image: importing as $TAG" >&2
$SUDO tar -C "$WORK/rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'LABEL agentscale.image=base' \
  --change 'CMD ["/bin/bash"]' \
  - "$TAG" >/dev/null
docker run --rm --network none "$TAG" sh -c 'python3 -c "import pytest" && git --version && tmux -V && timeout --version | head -1' >&2
echo "build-base-image: built $TAG" >&2
