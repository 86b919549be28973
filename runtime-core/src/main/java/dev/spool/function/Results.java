package dev.spool.function;

import dev.spool.Tensor;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The structure of a function's result (a tensor, a list or array of them, a record of them,
 * nested, or Java values, which are returned as traced), flattened to its tensors and rebuilt
 * around a call's tensors.
 */
abstract class Results {
    abstract Object rebuild(List<Tensor> tensors);

    static Results flatten(Object r, List<Tensor> out) {
        if (r instanceof Tensor t) {
            int index = out.size();
            out.add(t);
            return new Results() {
                @Override
                Object rebuild(List<Tensor> tensors) {
                    return tensors.get(index);
                }
            };
        }
        if (r instanceof List<?> list) {
            List<Results> parts = new ArrayList<>();
            for (Object o : list) {
                parts.add(flatten(o, out));
            }
            return new Results() {
                @Override
                Object rebuild(List<Tensor> tensors) {
                    List<Object> l = new ArrayList<>(parts.size());
                    for (Results p : parts) {
                        l.add(p.rebuild(tensors));
                    }
                    return Collections.unmodifiableList(l);
                }
            };
        }
        if (r != null && r.getClass().isArray() && !r.getClass().getComponentType().isPrimitive()) {
            Class<?> type = r.getClass().getComponentType();
            List<Results> parts = new ArrayList<>();
            for (int i = 0; i < Array.getLength(r); i++) {
                parts.add(flatten(Array.get(r, i), out));
            }
            return new Results() {
                @Override
                Object rebuild(List<Tensor> tensors) {
                    Object a = Array.newInstance(type, parts.size());
                    for (int i = 0; i < parts.size(); i++) {
                        Array.set(a, i, parts.get(i).rebuild(tensors));
                    }
                    return a;
                }
            };
        }
        if (r instanceof Record rec) {
            RecordComponent[] components = rec.getClass().getRecordComponents();
            List<Results> parts = new ArrayList<>();
            Class<?>[] types = new Class<?>[components.length];
            for (int i = 0; i < components.length; i++) {
                types[i] = components[i].getType();
                try {
                    components[i].getAccessor().setAccessible(true);
                    parts.add(flatten(components[i].getAccessor().invoke(rec), out));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalArgumentException("Spool.function: cannot read record component "
                            + components[i].getName() + " of " + rec.getClass().getName(), e);
                }
            }
            Constructor<?> make;
            try {
                make = rec.getClass().getDeclaredConstructor(types);
                make.setAccessible(true);
            } catch (ReflectiveOperationException e) {
                throw new IllegalArgumentException("Spool.function: no canonical constructor for "
                        + rec.getClass().getName(), e);
            }
            return new Results() {
                @Override
                Object rebuild(List<Tensor> tensors) {
                    Object[] a = new Object[parts.size()];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = parts.get(i).rebuild(tensors);
                    }
                    try {
                        return make.newInstance(a);
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException(e);
                    }
                }
            };
        }
        // a Java value (or null): returned as it was when traced, as tf.function returns Python values
        return new Results() {
            @Override
            Object rebuild(List<Tensor> tensors) {
                return r;
            }
        };
    }
}
