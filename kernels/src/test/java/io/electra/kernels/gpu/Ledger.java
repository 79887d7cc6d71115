package io.electra.kernels.gpu;

import java.util.Map;
import java.util.TreeMap;

/** The worst error each kernel showed in this JVM's gpu tests; VerifiedLedgerTest writes it out. */
public final class Ledger {
    private static final Map<String, Double> WORST = new TreeMap<>();

    private Ledger() {
    }

    /** {@code kernels} is one entry point or several joined by '+' (a call that launches more than one). */
    public static synchronized void record(String kernels, double error) {
        for (String k : kernels.split("\\+")) WORST.merge(k.trim(), error, Math::max);
    }

    public static synchronized Map<String, Double> verified() {
        return new TreeMap<>(WORST);
    }
}
