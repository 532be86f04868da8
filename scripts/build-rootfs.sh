#!/usr/bin/env bash
# Builds, without a container registry, the root file system deploy/container/Containerfile describes: Debian 12
# (mmdebstrap's minbase with deploy/container/packages, trimmed like debian:bookworm-slim), then the same files
# (deploy/container/stage.sh: the release binary, its resource bundles, the Swift runtime, the examples) and the same
# user and volumes (deploy/container/configure-root.sh). Optionally as a tar, and imported into podman with the
# Containerfile's ENV, VOLUME, USER, WORKDIR, EXPOSE and CMD. Needs root; installs mmdebstrap when it is missing.
#   scripts/build-rootfs.sh [--build-dir .build/release] [--examples DIR] [--tar FILE] [--import NAME] [--refresh] [DIR]
# DIR defaults to .build/image/rootfs and is replaced. Debian's part is kept as a tar under .build/image, named after
# what went into it (the package list, dpkg filters, mmdebstrap's version): a second run reuses it and needs no
# network; --refresh builds it again (for Debian's latest security updates). Downloaded packages are kept in
# .build/image/apt-archives, so even a refresh fetches only what changed.
set -euo pipefail

repository=$(cd "$(dirname "$0")/.." && pwd)
container="$repository/deploy/container"
cache="$repository/.build/image"
build_dir="$repository/.build/release"
examples="${BLINDSPOT_SHARED:-$repository/../shared}/seed-examples"
root="$cache/rootfs"
tar_file="" image_name="" refresh=false

usage() { sed -n '7p' "$0" | sed 's/^# */usage: /' >&2; exit 2; }
while (($#)); do
    case $1 in
        --build-dir) build_dir=$2; shift 2 ;;
        --examples) examples=$2; shift 2 ;;
        --tar) tar_file=$2; shift 2 ;;
        --import) image_name=$2; shift 2 ;;
        --refresh) refresh=true; shift ;;
        -h|--help) usage ;;
        -*) echo "build-rootfs: unknown option $1" >&2; usage ;;
        *) root=$1; shift ;;
    esac
done
root=$(realpath -m "$root")
[ "$(id -u)" -eq 0 ] || { echo "build-rootfs: needs root (mmdebstrap, chroot and file owners)" >&2; exit 1; }
[ -n "$image_name" ] && [ -z "$tar_file" ] && tar_file="$cache/rootfs.tar"
case $root in /|"") echo "build-rootfs: refusing to replace '$root'" >&2; exit 1 ;; esac

if ! command -v mmdebstrap >/dev/null; then
    echo "build-rootfs: installing mmdebstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap
fi

# Debian's part, built once per package list.
packages=$(grep -v '^#' "$container/packages" | paste -sd, -)
mmdebstrap_options=(--variant=minbase --include="$packages" --dpkgopt="$container/slim.dpkg.cfg")
key=$( { mmdebstrap --version; printf '%s\n' "${mmdebstrap_options[@]}"; cat "$container/slim.dpkg.cfg"; } | sha256sum | cut -c1-16)
base="$cache/debian-bookworm-$key.tar"
mkdir -p "$cache/apt-archives"
if $refresh || [ ! -f "$base" ]; then
    echo "build-rootfs: mmdebstrap bookworm with $packages"
    started=$SECONDS
    # The hooks carry the downloaded packages in and out of the cache (mmdebstrap's manual, "apt cache").
    mmdebstrap "${mmdebstrap_options[@]}" --skip=essential/unlink \
        --setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
        --setup-hook="sync-in '$cache/apt-archives' /var/cache/apt/archives" \
        --customize-hook="sync-out /var/cache/apt/archives '$cache/apt-archives'" \
        bookworm "$base.partial.tar"
    mv "$base.partial.tar" "$base"
    find "$cache" -maxdepth 1 -name 'debian-bookworm-*.tar' ! -path "$base" -delete
    echo "build-rootfs: Debian's part took $((SECONDS - started)) s; kept as $base"
else
    echo "build-rootfs: reusing $base (--refresh to build it again)"
fi

# What may still be mounted from an earlier run that was killed (make test-image mounts in a namespace of its own, so
# nothing should be): refuse rather than delete through a mount.
if grep -q " $root/" /proc/self/mounts; then
    echo "build-rootfs: something is mounted under $root; unmount it first:" >&2
    grep " $root/" /proc/self/mounts >&2
    exit 1
fi
rm -rf "$root"
mkdir -p "$root"
tar --extract --numeric-owner --same-permissions --file "$base" --directory "$root"
"$container/stage.sh" "$build_dir" "$examples" "$root"
chroot "$root" /bin/sh -s < "$container/configure-root.sh"
echo "build-rootfs: $root, $(du -sh --one-file-system "$root" | cut -f1)"

if [ -n "$tar_file" ]; then
    tar --create --numeric-owner --file "$tar_file" --directory "$root" .
    echo "build-rootfs: $tar_file, $(du -sh "$tar_file" | cut -f1)"
fi
if [ -n "$image_name" ]; then
    # The runtime stage's settings, one instruction a line, as podman import --change takes them (HEALTHCHECK cannot
    # be given this way: `podman run --health-cmd /opt/blindspot/healthcheck` adds it).
    changes=()
    while IFS= read -r line; do changes+=(--change "$line"); done \
        < <(sed -n '/^FROM .* AS runtime$/,$p' "$container/Containerfile" | grep -E '^(ENV|VOLUME|USER|WORKDIR|EXPOSE|CMD) ')
    podman import "${changes[@]}" "$tar_file" "$image_name"
fi
