package io.electra.engine.io;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Tensor;

import java.lang.reflect.Proxy;

/** A backend whose every method fails, standing in for a device that dies in the middle of a save. */
final class FailingBackend {
    private FailingBackend() {
    }

    static Tensor tensor() {
        Backend b = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("name")) return "failing";
                    throw new IllegalStateException("device lost during " + method.getName());
                });
        return new Tensor(b, DType.F32, new int[] {4}, null, 0, "z");
    }
}
