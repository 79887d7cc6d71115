package io.electra.engine.cpu;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.ExecutionException;

/**
 * The CPU backend's only source of parallelism: one owned fixed pool (never the common
 * ForkJoinPool, whose size nobody here controls). A loop over {@code n} items is cut into
 * contiguous chunks; the calling thread runs one chunk itself. Loops started from inside a pool
 * thread run serially, so nesting can never deadlock the pool.
 */
final class Parallel implements AutoCloseable {
    /** Below this many estimated operations a loop is not worth handing to other threads. */
    static final long MIN_PARALLEL_WORK = 1L << 15;

    /** The work of items {@code [from, to)}. */
    @FunctionalInterface
    interface Range {
        void run(int from, int to);
    }

    private final int threads;
    private final ExecutorService pool; // null when threads == 1
    private final ThreadLocal<Boolean> insidePool = ThreadLocal.withInitial(() -> false);

    Parallel(int threads) {
        if (threads < 1) throw new IllegalArgumentException("thread count must be >= 1, got " + threads);
        this.threads = threads;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, daemonThreads());
    }

    int threads() {
        return threads;
    }

    /** Runs {@code body} over {@code [0, n)} in parallel chunks, whatever the work per item. */
    void parallelFor(int n, Range body) {
        parallelFor(n, Long.MAX_VALUE / Math.max(1, n), body);
    }

    /**
     * Runs {@code body} over {@code [0, n)}; serially when {@code n * costPerItem} (a rough count of
     * operations) is too small to pay for the hand-off.
     */
    void parallelFor(int n, long costPerItem, Range body) {
        if (n <= 0) return;
        long work = costPerItem >= Long.MAX_VALUE / Math.max(1, n) ? Long.MAX_VALUE : n * costPerItem;
        if (pool == null || n == 1 || work < MIN_PARALLEL_WORK || insidePool.get()) {
            body.run(0, n);
            return;
        }
        // A few chunks per thread even out uneven items and threads preempted by other processes.
        int chunks = (int) Math.min(n, Math.min(threads * 4L, Math.max(threads, work / MIN_PARALLEL_WORK)));
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
            }
        };
        int helpers = Math.min(threads - 1, chunks - 1);
        @SuppressWarnings("unchecked")
        Future<?>[] futures = new Future<?>[helpers];
        for (int t = 0; t < helpers; t++) futures[t] = pool.submit(() -> {
            insidePool.set(true);
            worker.run();
        });
        Throwable failure = null;
        insidePool.set(true); // a loop nested in this one, on this thread, runs serially too
        try {
            worker.run();
        } catch (RuntimeException | Error e) {
            failure = e;
        } finally {
            insidePool.set(false);
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) failure = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) failure = e;
            }
        }
        if (failure instanceof RuntimeException r) throw r;
        if (failure instanceof Error err) throw err;
        if (failure != null) throw new IllegalStateException("parallel loop interrupted", failure);
    }

    @Override
    public void close() {
        if (pool != null) pool.shutdownNow();
    }

    private static ThreadFactory daemonThreads() {
        AtomicInteger count = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "electra-cpu-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
