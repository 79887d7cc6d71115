#!/usr/bin/env bash
# Builds the CPU emulation of CUDA: OUT/libcuda.so.1 (default kernels/target/emulator), the
# emulated driver plus every kernel family compiled for the host. With it, the CUDA backend and
# its gpu tests run where there is no GPU:
#   mvn -B verify -Delectra.cuda.emulator=$PWD/kernels/target/emulator/libcuda.so.1
# --test also runs the device-side smoke tests: gemm_tc through emulated tensor-core instructions,
# then the wgmma emulation through test kernels of its own (test/wgmma_smoke.cu).
# Needs g++ and python3; without them it says so and exits 0, building nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernels=$(dirname "$here")
out="$kernels/target/emulator"
run_test=0
for a in "$@"; do
    case "$a" in
        --test) run_test=1 ;;
        *) out="$a" ;;
    esac
done
for tool in g++ python3; do
    command -v "$tool" >/dev/null || { echo "cuda emulator: $tool not found, not built"; exit 0; }
done

mkdir -p "$out/src" "$out/obj"
python3 "$here/translate.py" "$kernels/src/main/cuda" "$kernels/src/main/resources/ptx" "$out/src"
bash "$here/gen-stubs.sh" "$here/jcuda-driver-symbols.txt" "$here"/driver_*.cpp > "$out/src/driver_stubs.cpp"

flags=(-std=c++17 -O3 -fPIC -fno-strict-aliasing -Wall -Wno-unknown-pragmas -Wno-unused-variable -Wno-unused-function -Wno-sign-compare
       -I"$here" -I"$out/src")
sources=("$here/runtime.cpp" "$here"/driver_*.cpp "$out/src/driver_stubs.cpp" "$out"/src/*.cpp)
# Compile in parallel; an object is rebuilt only when its source or a header is newer.
newest_header=$(ls -t "$here"/*.h "$out"/src/*.cuh | head -1)
printf '%s\n' "${sources[@]}" | sort -u | xargs -P "$(nproc)" -I{} bash -c '
    src="$1"; shift; obj="'"$out"'/obj/$(basename "${src%.cpp}").o"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "'"$newest_header"'" -nt "$obj" ]; then
        g++ "$@" -c "$src" -o "$obj"
    fi' _ {} "${flags[@]}"
# Link the objects of today's sources only: a stale object (a renamed file) would clash.
objects=()
for src in $(printf '%s\n' "${sources[@]}" | sort -u); do objects+=("$out/obj/$(basename "${src%.cpp}").o"); done
g++ -shared -Wl,-soname,libcuda.so.1 -o "$out/libcuda.so.1" "${objects[@]}" -lpthread
echo "cuda emulator: $out/libcuda.so.1"

if [ "$run_test" = 1 ]; then
    g++ -std=c++17 -O2 -I"$here" "$here/test/gemm_tc_smoke.cpp" -o "$out/gemm_tc_smoke" -L"$out" -l:libcuda.so.1 \
        -Wl,-rpath,"$out" -lpthread
    "$out/gemm_tc_smoke"
    mkdir -p "$out/test"
    python3 "$here/translate.py" --kernel "$here/test/fault_smoke.cu" "$out/test/fault_smoke_kernels.cpp"
    g++ "${flags[@]}" "$out/test/fault_smoke_kernels.cpp" "$here/test/fault_smoke.cpp" -o "$out/fault_smoke" -L"$out" \
        -l:libcuda.so.1 -Wl,-rpath,"$out" -lpthread
    "$out/fault_smoke"
    # The wgmma test kernels are no family: translated apart from src/, linked into the test only.
    mkdir -p "$out/test"
    python3 "$here/translate.py" --kernel "$here/test/wgmma_smoke.cu" "$out/test/wgmma_smoke_kernels.cpp"
    g++ "${flags[@]}" "$out/test/wgmma_smoke_kernels.cpp" "$here/test/wgmma_smoke.cpp" -o "$out/wgmma_smoke" -L"$out" \
        -l:libcuda.so.1 -Wl,-rpath,"$out" -lpthread
    "$out/wgmma_smoke"
fi
