#!/usr/bin/env bash
# Builds every kernel family kernels/src/main/cuda/<family>.cu into <out>/<family>.ptx
# (default: the committed resources, kernels/src/main/resources/ptx), plus sources.sha256, a
# manifest of the sources and flags the PTX came from, which PtxBuildTest checks even where
# nvcc is absent.
#
# Target: compute_80 PTX (Ampere and later JIT it). A family that needs Hopper-only
# instructions goes in <family>.sm_90a.cu and is built for sm_90a into <family>.sm_90a.ptx.
# Output is deterministic: nvcc runs inside the source folder on relative names, without
# line info, so no path or time stamp enters the PTX; two builds are byte-identical.
#
# Usage: kernels/scripts/build-ptx.sh [out-dir]     (NVCC=/path/to/nvcc to pick a toolkit)
set -euo pipefail
kernels=$(cd "$(dirname "$0")/.." && pwd)
src=$kernels/src/main/cuda
out=${1:-$kernels/src/main/resources/ptx}
nvcc=${NVCC:-nvcc}
flags=(-ptx -O3 -std=c++17)

mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$src"
for cu in *.cu; do
    family=${cu%.cu}
    case "$family" in
        *.sm_90a) arch=(-arch=sm_90a) ;;
        *)        arch=(-arch=compute_80) ;;
    esac
    "$nvcc" "${flags[@]}" "${arch[@]}" -o "$out/$family.ptx" "$cu"
done
{
    echo "# nvcc: $("$nvcc" --version | tail -1)"
    echo "# flags: ${flags[*]} -arch=compute_80 (sm_90a for *.sm_90a.cu)"
    sha256sum -- *.cu *.cuh | LC_ALL=C sort -k2
} > "$out/sources.sha256"
echo "built $(ls "$out"/*.ptx | wc -l) PTX files into $out"
