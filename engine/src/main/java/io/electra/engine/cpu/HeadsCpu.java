package io.electra.engine.cpu;

import io.electra.engine.Tensor;

/**
 * Split and merge attention heads: [B,T,H*D] and [B,H,T,D] hold the same numbers in two layouts.
 * Each (b, t) row moves H runs of D contiguous elements. The fused query, key and value projection
 * [B,T,3*H*D] is three such blocks of columns side by side, one per head tensor.
 */
final class HeadsCpu {
    private final Parallel parallel;

    HeadsCpu(Parallel parallel) {
        this.parallel = parallel;
    }

    /** in [B,T,H*D] to out [B,H,T,D] (+= when accumulate). */
    void split(Tensor out, Tensor in, boolean accumulate) {
        move(in, new Tensor[] {out}, true, accumulate);
    }

    /** in [B,H,T,D] to out [B,T,H*D] (+= when accumulate). */
    void merge(Tensor out, Tensor in, boolean accumulate) {
        move(out, new Tensor[] {in}, false, accumulate);
    }

    /** in [B,T,3*H*D] to q, k, v [B,H,T,D], overwritten. */
    void splitQkv(Tensor q, Tensor k, Tensor v, Tensor in) {
        move(in, new Tensor[] {q, k, v}, true, false);
    }

    /** dq, dk, dv [B,H,T,D] to dIn [B,T,3*H*D] (+= when accumulate). */
    void mergeQkv(Tensor dIn, Tensor dq, Tensor dk, Tensor dv, boolean accumulate) {
        move(dIn, new Tensor[] {dq, dk, dv}, false, accumulate);
    }

    /**
     * merged [B,T,P*H*D] to the P tensors perHead [B,H,T,D] (split) or back: part p is merged's p-th
     * block of H*D columns.
     */
    private void move(Tensor merged, Tensor[] perHead, boolean split, boolean accumulate) {
        int batch = merged.dim(0), seq = merged.dim(1), parts = perHead.length;
        int heads = perHead[0].dim(1), headDim = perHead[0].dim(3);
        parallel.parallelFor(batch * seq, (long) parts * heads * headDim, (r0, r1) -> {
            double[] x = Scratch.get(0, headDim);
            for (int r = r0; r < r1; r++) {
                int b = r / seq, t = r % seq;
                for (int p = 0; p < parts; p++) {
                    Tensor from = split ? merged : perHead[p], to = split ? perHead[p] : merged;
                    for (int h = 0; h < heads; h++) {
                        long inMerged = (((long) r * parts + p) * heads + h) * headDim;
                        long inPerHead = (((long) b * heads + h) * seq + t) * headDim;
                        Elements.load(from, split ? inMerged : inPerHead, x, 0, headDim);
                        long dst = split ? inPerHead : inMerged;
                        if (accumulate) Elements.addTo(to, dst, x, 0, headDim);
                        else Elements.store(to, dst, x, 0, headDim);
                    }
                }
            }
        });
    }
}
