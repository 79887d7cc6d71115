#!/usr/bin/env bash
# Tests the driver (driver_*.cpp) alone, against the mock device side (mock_device.cpp):
#   1. the smoke test (driver_smoke.cpp) against driver_*.cpp + driver_stubs.cpp + the mock;
#   2. a libcuda.so.1 of the same files: defines every symbol JCuda imports, and JCuda's native
#      library resolves libcuda.so.1 to it through LD_LIBRARY_PATH alone;
#   3. with a CUDA toolkit present, every driver_*.cpp signature against its cuda.h.
# Usage: run-driver-smoke.sh [path of libJCudaDriver-*.so]   (output in $OUT, default /tmp/cuda-emu-driver-test)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
emu=$(dirname "$here")
out=${OUT:-/tmp/cuda-emu-driver-test}
jcuda=${1:-/tmp/jn/lib/libJCudaDriver-12.6.0-linux-x86_64.so}
mkdir -p "$out"
flags=(-std=c++17 -O2 -g -Wall -Wextra -fPIC)
driver=("$emu"/driver_*.cpp)

bash "$emu/gen-stubs.sh" "$emu/jcuda-driver-symbols.txt" "${driver[@]}" > "$out/driver_stubs.cpp"

echo "== smoke test"
g++ "${flags[@]}" -fsanitize=address,undefined "${driver[@]}" "$out/driver_stubs.cpp" "$here/mock_device.cpp" \
    "$here/driver_smoke.cpp" -o "$out/driver_smoke" -pthread
"$out/driver_smoke" 2> "$out/driver_smoke.log" || { cat "$out/driver_smoke.log"; exit 1; }
tail -1 "$out/driver_smoke.log"

echo "== libcuda.so.1"
g++ "${flags[@]}" -shared -Wl,-soname,libcuda.so.1 "${driver[@]}" "$out/driver_stubs.cpp" "$here/mock_device.cpp" \
    -o "$out/libcuda.so.1" -pthread
missing=$(comm -23 <(grep -vE '^[[:space:]]*(#|$)' "$emu/jcuda-driver-symbols.txt" | sort -u) \
                   <(nm -D --defined-only "$out/libcuda.so.1" | awk '{print $3}' | sort -u))
[ -z "$missing" ] || { echo "libcuda.so.1 lacks: $missing"; exit 1; }
echo "defines all $(grep -cvE '^[[:space:]]*(#|$)' "$emu/jcuda-driver-symbols.txt") symbols JCuda imports"
if [ -f "$jcuda" ]; then
    LD_LIBRARY_PATH="$out" ldd "$jcuda" | grep libcuda
    LD_LIBRARY_PATH="$out" ldd -r "$jcuda" 2>&1 | grep -i 'undefined symbol' && { echo "unresolved symbols"; exit 1; }
    echo "ldd -r: every symbol of $(basename "$jcuda") resolves"
fi

cuda_h=""
for dir in ${CUDA_HOME:+"$CUDA_HOME/include"} /usr/local/cuda/include "$(dirname "$(readlink -f "$(command -v nvcc || echo /nonexistent)")")/../include"; do
    [ -f "$dir/cuda.h" ] && { cuda_h=$dir; break; }
done
if [ -n "$cuda_h" ]; then
    echo "== signatures against $cuda_h/cuda.h"
    g++ -std=c++17 -fsyntax-only -DCUEMU_CHECK_AGAINST_CUDA_H -I"$cuda_h" "${driver[@]}" && echo "match"
fi
