package io.electra.bench.step;

import io.electra.engine.Backend;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Wall time per {@link Backend} method, through a proxy in front of the real backend: where a CPU step's
 * time goes. Matmuls are split by their transpose flags (NN, NT, TN), the layouts that differ most in
 * speed. Meaningless on an asynchronous (GPU) backend, where a call returns before its kernel ends.
 */
final class BackendProfile implements InvocationHandler {
    private final Backend target;
    private final Map<String, long[]> nanosAndCalls = new HashMap<>();

    private BackendProfile(Backend target) {
        this.target = target;
    }

    /** The profiled view of {@code target}, and the profile it fills. */
    static Map.Entry<Backend, BackendProfile> wrap(Backend target) {
        BackendProfile p = new BackendProfile(target);
        Backend proxy = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, p);
        return Map.entry(proxy, p);
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        long t0 = System.nanoTime();
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        } finally {
            long dt = System.nanoTime() - t0;
            String name = method.getName();
            if (name.equals("matmul")) name = "matmul " + ((Boolean) args[2] ? "T" : "N") + ((Boolean) args[4] ? "T" : "N");
            long[] s = nanosAndCalls.computeIfAbsent(name, k -> new long[2]);
            s[0] += dt;
            s[1]++;
        }
    }

    void reset() {
        nanosAndCalls.clear();
    }

    /** Milliseconds per step of each method, largest first. */
    Map<String, Double> msPerStep(int steps) {
        Map<String, Double> out = new LinkedHashMap<>();
        nanosAndCalls.entrySet().stream().sorted(Comparator.comparingLong((Map.Entry<String, long[]> e) -> -e.getValue()[0]))
                .forEach(e -> out.put(e.getKey(), e.getValue()[0] / 1e6 / steps));
        return out;
    }
}
