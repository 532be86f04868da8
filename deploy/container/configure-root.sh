#!/bin/sh
# Finishes the runtime root from inside it, as root, once the packages and stage.sh's files are in: the non-root user
# the server runs as, its volumes (weights in BLINDSPOT_HOME, the catalog in BLINDSPOT_DATA) and the linker's cache
# for the Swift runtime. Run by the Containerfile (RUN) and by scripts/build-rootfs.sh (chroot); plain sh, as
# debian:bookworm-slim and mmdebstrap's minbase both have it.
set -eu

# A fixed id, so that a volume prepared outside (chown 10001) fits any build of the image.
id=10001
home=/var/lib/blindspot
groupadd --gid "$id" blindspot
useradd --uid "$id" --gid "$id" --home-dir "$home" --no-create-home --shell /usr/sbin/nologin blindspot
mkdir -p "$home/models" "$home/data"
chown -R "$id:$id" "$home"
ldconfig
