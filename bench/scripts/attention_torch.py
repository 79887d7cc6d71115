#!/usr/bin/env python3
"""Times torch.nn.functional.scaled_dot_product_attention forward + backward at AttentionBench's shapes.

Usage: attention_torch.py SHAPES.json OUT.json [reps]
SHAPES.json comes from `AttentionBench --list-shapes`; OUT.json gets {"cases": [{"name", "ms", ...}]}.
bf16 [B, H, T, D] inputs N(0, 1), random as in AttentionBench; no mask (so SDPA may use its flash
kernel), dropout_p as listed. Forward and backward are timed separately with CUDA events, median of
`reps` after 3 warm-ups, and "ms" is their sum, as AttentionBench reports its own.
"""
import json
import statistics
import sys

import torch
import torch.nn.functional as F


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
        sys.exit("usage: attention_torch.py SHAPES.json OUT.json [reps]")
    shapes = json.load(open(sys.argv[1]))["cases"]
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    results = []
    for c in shapes:
        shape = (c["b"], c["h"], c["t"], c["d"])
        q, k, v = (torch.randn(shape, dtype=torch.bfloat16, device="cuda", requires_grad=True) for _ in range(3))
        d_out = torch.randn(shape, dtype=torch.bfloat16, device="cuda")
        p = c["p"]
        fwd = time_ms(lambda: F.scaled_dot_product_attention(q, k, v, dropout_p=p), reps)
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
        bwd = time_ms(lambda: torch.autograd.grad(out, (q, k, v), d_out, retain_graph=True), reps)
        results.append({"name": c["name"], "forwardMs": fwd, "backwardMs": bwd, "ms": fwd + bwd})
        print(f"{c['name']:<18} fwd {fwd:8.3f} ms  bwd {bwd:8.3f} ms  total {fwd + bwd:8.3f} ms")
    out = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__, "cuda": torch.version.cuda,
           "method": f"SDPA forward and backward, CUDA events, median of {reps} after 3 warm-ups", "cases": results}
    json.dump(out, open(sys.argv[2], "w"), indent=2)
    print("wrote", sys.argv[2])


if __name__ == "__main__":
    main()
