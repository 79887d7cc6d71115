package io.electra.engine.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/** Children named by their index ({@code layer.0}, {@code layer.1}, ...), as PyTorch's ModuleList. */
public final class ModuleList<M extends Module> extends Module implements Iterable<M> {
    private final List<M> items = new ArrayList<>();

    public ModuleList(List<M> modules) {
        for (M m : modules) add(m);
    }

    public M add(M module) {
        child(Integer.toString(items.size()), module);
        items.add(module);
        return module;
    }

    public M get(int i) {
        return items.get(i);
    }

    public int size() {
        return items.size();
    }

    public List<M> asList() {
        return Collections.unmodifiableList(items);
    }

    @Override
    public Iterator<M> iterator() {
        return asList().iterator();
    }
}
