package dev.spool;

import dev.spool.internal.NullChecks;
import dev.spool.internal.TraceHooks;
import dev.spool.spi.Backend;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import java.util.function.DoubleSupplier;

/**
 * Optimizer updates as one primitive per parameter: TensorFlow's raw training ops
 * ({@code ResourceApplyGradientDescent}, {@code ResourceApplyMomentum},
 * {@code ResourceApplyKerasMomentum}, {@code ResourceApplyAdam}). Written with ops, an Adam
 * step is twelve launches and eleven temporaries per parameter; here it is one launch.
 *
 * <p>Each new value goes to a fresh buffer that the variable then holds, as {@link
 * Variable#assign} does: tensors read from the variable before the update keep the old value.
 * Not recorded on tapes (an update is not differentiable).
 */
final class TrainingOps {
    private TrainingOps() {
    }

    /** The launch of one update: inputs (variable and slots first, the gradient last), outputs. */
    @FunctionalInterface
    private interface Update {
        void run(Backend backend, View[] in, DeviceBuffer[] out);
    }

    /*
     * The scalars are suppliers, read when the update runs: eagerly that is now, and in a traced
     * function (dev.spool.function) at every call, so that a step count or a learning-rate
     * schedule kept in Java still advances when the function replays without running Java code.
     */

    static Variable applyGradientDescent(Variable var, DoubleSupplier lr, Operand grad) {
        update("applyGradientDescent", new Variable[] {var}, new String[] {"var"}, grad,
                (b, in, out) -> b.applyGradientDescent(in[0], in[1], lr.getAsDouble(), out[0]));
        return var;
    }

    static Variable applyMomentum(String op, Variable var, Variable accum, DoubleSupplier lr, Operand grad,
                                  double momentum, boolean nesterov, boolean keras) {
        update(op, new Variable[] {var, accum}, new String[] {"var", "accum"}, grad,
                (b, in, out) -> b.applyMomentum(in[0], in[1], in[2], lr.getAsDouble(), momentum, nesterov, keras,
                        out[0], out[1]));
        return var;
    }

    static Variable applyAdam(Variable var, Variable m, Variable v, DoubleSupplier beta1Power,
                              DoubleSupplier beta2Power, DoubleSupplier lr, double beta1, double beta2, double epsilon,
                              Operand grad) {
        update("applyAdam", new Variable[] {var, m, v}, new String[] {"var", "m", "v"}, grad,
                (b, in, out) -> {
                    // in double on the host, as the optimizers of Keras and Spool's nn compute it
                    double alpha = lr.getAsDouble() * Math.sqrt(1 - beta2Power.getAsDouble())
                            / (1 - beta1Power.getAsDouble());
                    b.applyAdam(in[0], in[1], in[2], in[3], alpha, beta1, beta2, epsilon, out[0], out[1], out[2]);
                });
        return var;
    }

    /**
     * Checks the variables (open, distinct, one shape, float dtype and device) and the gradient
     * against the first, runs {@code launch} on contiguous inputs into fresh outputs, and swaps
     * the outputs into the variables.
     */
    private static void update(String op, Variable[] vars, String[] roles, Operand grad, Update launch) {
        for (int i = 0; i < vars.length; i++) {
            String role = roles[i];
            NullChecks.nonNull(vars[i], op, role);
            for (int j = 0; j < i; j++) {
                if (vars[i] == vars[j]) {
                    throw new UsageException(op + ": " + roles[j] + " and " + roles[i]
                            + " are the same variable '" + vars[i].name() + "'");
                }
            }
        }
        NullChecks.nonNull(grad, op, "grad");
        try (GradientTape.Suspension quiet = GradientTape.suspendAll()) {
            synchronized (vars[0]) {
                Tensor[] in = new Tensor[vars.length + 1];
                for (int i = 0; i < vars.length; i++) {
                    in[i] = vars[i].currentFor(op);
                }
                in[vars.length] = grad.value();
                Tensor w = in[0];
                Prims.requireFloating(op, w);
                for (int i = 1; i < in.length; i++) {
                    String what = i < vars.length ? roles[i] + " ('" + vars[i].name() + "')" : "grad";
                    requireLike(op, what, in[i], vars[0]);
                }
                run(op, vars, in, launch);
            }
        }
    }

    private static void requireLike(String op, String what, Tensor t, Variable var) {
        t.checkOpen();
        if (!t.shape().equals(var.shape())) {
            throw new ShapeException(op + ": " + what + " has shape " + t.shape() + ", variable '" + var.name()
                    + "' has shape " + var.shape());
        }
        if (t.dtype() != var.dtype()) {
            throw new DTypeException(op + ": " + what + " is " + t.dtype() + ", variable '" + var.name()
                    + "' is " + var.dtype() + "; cast one with cast()");
        }
        if (t.device() != var.device()) {
            throw new DeviceException(op + ": " + what + " is on " + t.device() + ", variable '" + var.name()
                    + "' on " + var.device() + "; move one with tensor.to(device)");
        }
    }

    private static void run(String op, Variable[] vars, Tensor[] in, Update launch) {
        Device d = in[0].device();
        Tensor[] copies = new Tensor[in.length];
        Tensor[] out = new Tensor[vars.length];
        try {
            View[] views = new View[in.length];
            for (int i = 0; i < in.length; i++) {
                Tensor t = in[i];
                if (!t.isContiguous()) { // rare (a variable made from a transposed view): the SPI takes dense inputs
                    t = copies[i] = Prims.copy(t, t.dtype());
                }
                views[i] = t.spiView();
            }
            DeviceBuffer[] buffers = new DeviceBuffer[vars.length];
            for (int i = 0; i < vars.length; i++) {
                out[i] = Prims.empty(d, in[0].dtype(), in[0].shape());
                buffers[i] = out[i].storage.buffer;
            }
            synchronized (d) {
                d.checkOpen();
                TraceHooks.Sink trace = TraceHooks.current();
                if (trace == null) {
                    launch.run(d.backend(), views, buffers);
                } else {
                    trace.launch(d, op, views, buffers, launch::run);
                }
            }
            if (CheckNumerics.enabled) { // before any variable changes: a failed check leaves them all as they were
                for (Tensor o : out) {
                    CheckNumerics.check(op, o, in);
                }
            }
            for (int i = 0; i < vars.length; i++) {
                vars[i].replace(out[i]);
            }
        } finally {
            closeAll(copies);
            closeAll(out); // the variables hold aliases; on failure nobody sees a half-written value
        }
    }

    private static void closeAll(Tensor[] ts) {
        for (Tensor t : ts) {
            if (t != null) {
                t.close();
            }
        }
    }
}
