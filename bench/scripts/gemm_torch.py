#!/usr/bin/env python3
"""Times torch.matmul (cuBLAS) at the shapes GemmBench lists, for the side-by-side comparison.

Usage: gemm_torch.py SHAPES.json OUT.json [reps]
SHAPES.json comes from `GemmBench --list-shapes`; OUT.json gets {"cases": [{"name", "ms", "tflops"}], ...}.
Inputs are bf16 N(0, 1), random as in GemmBench (constant data can run faster); transposed operands are transposed views, which
cuBLAS reads without a copy. torch.matmul returns bf16 even where ours writes f32 logits.
Timing: CUDA events around one call, median of `reps` after 3 warm-ups, as GemmBench does.
"""
import json
import statistics
import sys

import torch


def time_ms(fn, reps):
    for _ in range(3):
        fn()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(reps):
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: gemm_torch.py SHAPES.json OUT.json [reps]")
    shapes = json.load(open(sys.argv[1]))["cases"]
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    dev = torch.device("cuda")
    results = []
    for c in shapes:
        m, n, k, layout = c["m"], c["n"], c["k"], c["layout"]
        a = torch.randn((k, m) if layout[0] == "t" else (m, k), dtype=torch.bfloat16, device=dev)
        b = torch.randn((n, k) if layout[1] == "t" else (k, n), dtype=torch.bfloat16, device=dev)
        a_op = a.t() if layout[0] == "t" else a
        b_op = b.t() if layout[1] == "t" else b
        ms = time_ms(lambda: torch.matmul(a_op, b_op), reps)
        tflops = 2.0 * m * n * k / (ms * 1e9)
        results.append({"name": c["name"], "ms": ms, "tflops": tflops})
        print(f"{c['name']:<34} {ms:8.3f} ms {tflops:7.1f} TFLOP/s")
        del a, b
        torch.cuda.empty_cache()
    out = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__, "cuda": torch.version.cuda,
           "method": f"torch.matmul, bf16, CUDA events, median of {reps} after 3 warm-ups", "cases": results}
    json.dump(out, open(sys.argv[2], "w"), indent=2)
    print("wrote", sys.argv[2])


if __name__ == "__main__":
    main()
