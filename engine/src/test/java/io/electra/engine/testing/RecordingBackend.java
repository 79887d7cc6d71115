package io.electra.engine.testing;

import io.electra.engine.Backend;
import io.electra.engine.StepCapture;
import io.electra.engine.StepGraph;
import io.electra.engine.Tensor;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A CUDA graph emulated on any backend, so CPU tests can prove that a step replays correctly: a
 * decorator whose {@link Backend#captureStep} records every call the step makes <em>without
 * executing it</em>, as stream capture does, and whose graph re-issues the recorded calls with their
 * original arguments on each replay.
 *
 * <p>During a capture:
 * <ul>
 *   <li>kernels, {@code fill} and {@code copy} are recorded, not run;</li>
 *   <li>{@code allocateTemp}, {@code allocateTempUnfilled} and {@code resetArena} are host bookkeeping and run (the arena hands
 *       out the same storage each step); the arena's zero-fill becomes a recorded {@code fill(t, 0)},
 *       as the CUDA backend's memset becomes a graph node;</li>
 *   <li>{@code download*}, {@code upload}, {@code synchronize}, {@code allocate}, {@code free} and
 *       {@code setRngStepOffset} fail the capture: a replay could not repeat them, as a CUDA capture
 *       fails on a host read, a synchronisation or an allocation.</li>
 * </ul>
 * A default method of the interface that the target does not override is not one call but its parts:
 * it runs on the recorder, so what it calls is recorded (and its temporaries allocated) as above.
 * A replayed call passes its captured RngKey to the target, which moves it by its current
 * {@link Backend#setRngStepOffset} at replay time, exactly as a GPU kernel reads the offset word when
 * it runs. Calls made outside a capture go straight to the target.
 */
public final class RecordingBackend implements InvocationHandler {
    private static final Set<String> REFUSED = Set.of("downloadFloat", "downloadDouble", "downloadInt", "upload",
            "synchronize", "allocate", "free", "setRngStepOffset", "captureStep", "close");
    private static final Set<String> HOST_BOOKKEEPING = Set.of("allocateTemp", "allocateTempUnfilled", "resetArena", "name", "memoryStats",
            "attentionSavedShape", "toString", "hashCode", "equals");
    private static final Method FILL;

    static {
        try {
            FILL = Backend.class.getMethod("fill", Tensor.class, double.class);
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Backend target;
    private List<Call> recording;   // non-null while a step is being captured
    private String refusal;         // the first refused call of the current capture
    private int replays;

    private RecordingBackend(Backend target) {
        this.target = target;
    }

    /** {@code target} behind the recorder: the same backend, plus emulated step graphs. */
    public static Backend over(Backend target) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class},
                new RecordingBackend(target));
    }

    /** How many recorded steps {@code backend} (made by {@link #over}) has replayed so far. */
    public static int replays(Backend backend) {
        return handler(backend).replays;
    }

    private static RecordingBackend handler(Backend backend) {
        if (!Proxy.isProxyClass(backend.getClass()) || !(Proxy.getInvocationHandler(backend) instanceof RecordingBackend r)) {
            throw new IllegalArgumentException(backend + " is not a RecordingBackend");
        }
        return r;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        if (name.equals("captureStep") && recording == null) return capture((Runnable) args[0]);
        if (name.equals("toString") && method.getParameterCount() == 0) return "recording " + target;
        if (recording == null || HOST_BOOKKEEPING.contains(name)) {
            Object result = call(method, args);
            if (recording != null && name.equals("allocateTemp")) recording.add(new Call(FILL, new Object[]{result, 0.0}));
            return result;
        }
        if (method.isDefault() && !overridden(method)) {
            // a composite the target does not implement itself: its parts are what the device would run, so they
            // are recorded one by one (and its temporaries allocated now, as host bookkeeping, as on a GPU)
            return InvocationHandler.invokeDefault(proxy, method, args);
        }
        if (REFUSED.contains(name) || method.getReturnType() != void.class) {
            String why = name + " inside a captured step: a replay cannot repeat it (a captured step may not download, "
                    + "upload, synchronize, allocate persistent memory or set the RNG step offset)";
            if (refusal == null) refusal = why;
            throw new IllegalStateException(why);
        }
        recording.add(new Call(method, args.clone()));
        return null;
    }

    /** Whether the target has its own implementation of an interface default method. */
    private boolean overridden(Method method) {
        try {
            return !target.getClass().getMethod(method.getName(), method.getParameterTypes()).isDefault();
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
    }

    private StepCapture capture(Runnable step) {
        List<Call> calls = new ArrayList<>();
        recording = calls;
        refusal = null;
        RuntimeException failure = null;
        try {
            step.run();
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            recording = null;
        }
        if (refusal != null || failure != null) {
            return StepCapture.failed("the step could not be captured: " + (refusal != null ? refusal : failure.toString()));
        }
        return StepCapture.captured(new Recorded(List.copyOf(calls)));
    }

    private Object call(Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private record Call(Method method, Object[] args) {
    }

    /** The recorded calls of one captured step. */
    private final class Recorded implements StepGraph {
        private final List<Call> calls;
        private boolean closed;

        Recorded(List<Call> calls) {
            this.calls = calls;
        }

        @Override
        public void replay() {
            if (closed) throw new IllegalStateException("this recorded step was closed");
            if (recording != null) throw new IllegalStateException("a replay inside a capture");
            for (Call c : calls) {
                try {
                    c.method().invoke(target, c.args());
                } catch (InvocationTargetException e) {
                    throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
            replays++;
        }

        @Override
        public void close() {
            closed = true;
        }

        @Override
        public String toString() {
            return "recorded step of " + calls.size() + " calls";
        }
    }
}
