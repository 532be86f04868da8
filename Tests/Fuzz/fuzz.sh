#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer, makes their seed corpus, and runs each target for
# FUZZ_SECONDS (default 30), as many at once as there are cores. A crash fails the run; its input is kept in
# .build/test-output/fuzz/TARGET/ — copy it to Tests/Fuzz/Regressions/TARGET/ so that `swift test` replays it.
#     Tests/Fuzz/fuzz.sh [TARGET…]      (targets: image pytorch-zip pytorch-legacy safetensors onnx)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${FUZZ_SECONDS:-30}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(image pytorch-zip pytorch-legacy safetensors onnx)
out=.build/test-output/fuzz
binary=.build/fuzz/release/blindspot-fuzz

echo "fuzz: building with -sanitize=fuzzer,address"
swift build -c release --product blindspot-fuzz --scratch-path .build/fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -parse-as-library -Xcc -fsanitize=fuzzer-no-link,address 2>&1 \
    | grep -Ev "prohibited flag|unhandled; explicitly declare|PrivacyInfo|CMakeLists" || true
[ -x "$binary" ] || { echo "fuzz: the build failed" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
python3 Tests/Fuzz/make_seeds.py "$out/seeds"
# One target for FUZZ_SECONDS on a core of its own; its exit status is the verdict.
fuzz_target() {
    local target=$1 runs
    mkdir -p "$out/$target/corpus" "$out/$target/findings"
    local regressions=()
    [ -d "Tests/Fuzz/Regressions/$target" ] && regressions=("Tests/Fuzz/Regressions/$target")
    # The Swift runtime's backtracer would hang on a crash under libFuzzer: libFuzzer reports it instead.
    if SWIFT_BACKTRACE=enable=no BLINDSPOT_FUZZ_TARGET="$target" "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -artifact_prefix="$out/$target/findings/" -print_final_stats=1 \
        "$out/$target/corpus" "$out/seeds/$target" "${regressions[@]}" > "$out/$target/log.txt" 2>&1; then
        runs=$(grep -o "stat::number_of_executed_units: *[0-9]*" "$out/$target/log.txt" | grep -o "[0-9]*$" || echo "?")
        echo "fuzz: $target: $runs inputs in ${seconds} s, no crash, $(ls "$out/$target/corpus" | wc -l) in the corpus"
    else
        echo "fuzz: $target FOUND A CRASH: $(ls "$out/$target/findings")$(printf '\n')$(tail -n 40 "$out/$target/log.txt")" >&2
        return 1
    fi
}
status=0
cores=$(nproc)
running=()
for target in "${targets[@]}"; do
    fuzz_target "$target" &
    running+=($!)
    if [ ${#running[@]} -ge "$cores" ]; then
        for pid in "${running[@]}"; do wait "$pid" || status=1; done
        running=()
    fi
done
for pid in "${running[@]}"; do wait "$pid" || status=1; done
exit $status
