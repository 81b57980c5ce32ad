#!/bin/sh
# Build, once, the Debian 13 (trixie) chroot with GIMP 3 that tests/gimp runs the
# real GIMP in, and print its path. Needs root (debootstrap, chroot).
#
#   ROOT=$(sh tests/gimp/make_chroot.sh)       # default: ~/.cache/softcut/gimp3-trixie
#   SOFTCUT_GIMP_ROOT=/some/dir sh tests/gimp/make_chroot.sh
#
# A finished chroot carries a stamp file and is reused as it is (about 1 GB,
# built in about a minute).
set -eu
ROOT="${SOFTCUT_GIMP_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/softcut/gimp3-trixie}"
STAMP="$ROOT/.softcut-gimp3-ready"
PACKAGES="gimp python3-gi gir1.2-gimp-3.0 xvfb xauth xdotool"

if [ -f "$STAMP" ]; then
    echo "$ROOT"
    exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    apt-get update -q >&2 && apt-get install -y -q debootstrap >&2
fi
rm -rf "$ROOT.part"
mkdir -p "$(dirname "$ROOT")"
debootstrap --variant=minbase trixie "$ROOT.part" >&2
chroot "$ROOT.part" apt-get update -q >&2
chroot "$ROOT.part" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends $PACKAGES >&2
chroot "$ROOT.part" apt-get clean >&2
chroot "$ROOT.part" gimp-console-3.0 --version >&2
rm -rf "$ROOT"
mv "$ROOT.part" "$ROOT"
touch "$STAMP"
echo "$ROOT"
