#!/usr/bin/env bash
# Lays out Blindspot's own files of the runtime image under OUT, as they will sit in the image's /: the release binary
# (debug sections stripped) with its SwiftPM resource bundles beside it, the Swift runtime libraries it links (only those
# `ldd` resolves into the toolchain), an ld.so.conf.d entry for them, the health check, and the post's examples when
# EXAMPLES_DIR holds an examples.json. Used by the Containerfile's build stage and by scripts/build-rootfs.sh; it installs no package.
#   deploy/container/stage.sh BUILD_DIR EXAMPLES_DIR OUT     (BUILD_DIR: .build/release; EXAMPLES_DIR may be missing or empty)
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 BUILD_DIR EXAMPLES_DIR OUT" >&2
    exit 2
fi
build=$1 examples=$2 out=$3
# Where the image keeps the program, its runtime libraries and the examples (the Containerfile's ENV names the same).
app=/opt/blindspot
shared=/usr/local/share/blindspot

binary="$build/blindspot"
[ -x "$binary" ] || { echo "stage: $binary is no executable (swift build -c release --product blindspot)" >&2; exit 1; }
bundles=("$build"/*.resources)
[ -d "${bundles[0]}" ] || { echo "stage: no *.resources bundle beside $binary (the binary traps without them)" >&2; exit 1; }

mkdir -p "$out$app/lib" "$out/etc/ld.so.conf.d" "$out$shared"
objcopy --strip-debug "$binary" "$out$app/blindspot"
cp -R "${bundles[@]}" "$out$app/"
cp "$(dirname "$0")/healthcheck.sh" "$out$app/healthcheck"

# The Swift runtime is linked dynamically (a --static-swift-stdlib build would be a second full build; README, "Container
# image"): copy the libraries ldd finds in the toolchain's directory, the one holding libswiftCore.so.
listing=$(ldd "$binary")
if grep -q 'not found' <<< "$listing"; then
    echo "stage: $binary has libraries ldd cannot find here:" >&2
    grep 'not found' <<< "$listing" >&2
    exit 1
fi
runtime=$(awk '$1 == "libswiftCore.so" { print $3 }' <<< "$listing")
[ -n "$runtime" ] || { echo "stage: $binary does not link libswiftCore.so; is it a Swift program?" >&2; exit 1; }
toolchain_libraries=$(dirname "$runtime")
awk -v dir="$toolchain_libraries/" '$2 == "=>" && index($3, dir) == 1 { print $3 }' <<< "$listing" \
    | xargs -r cp -t "$out$app/lib/"
echo "$app/lib" > "$out/etc/ld.so.conf.d/blindspot.conf"

if [ -f "$examples/examples.json" ]; then
    cp -R "$examples" "$out$shared/seed-examples"
else
    echo "stage: no examples.json in $examples; the image's gallery will say where the examples go"
fi
