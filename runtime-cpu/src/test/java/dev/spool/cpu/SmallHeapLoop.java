package dev.spool.cpu;

import dev.spool.Device;
import dev.spool.GradientTape;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.Variable;

/**
 * The training loop of issue 10 without {@code TensorScope} on {@code cpu}, run by
 * {@link SmallHeapLoopTest} in a JVM of its own with {@code -Xmx512m}: X 64×256, W 256×256
 * float32, loss = mean(square(tanh(X@W)@W)), SGD; arguments: steps. Prints the heap limit, then
 * one line per 500 steps and a last line starting with {@code completed}.
 */
public final class SmallHeapLoop {
    private SmallHeapLoop() {
    }

    public static void main(String[] args) {
        int steps = Integer.parseInt(args[0]);
        Device cpu = Device.cpu();
        System.out.println("maxMemory " + Runtime.getRuntime().maxMemory() + " budget " + cpu.memoryBudget());
        long allocated = 0;
        try (Device.Scope on = Device.use(cpu)) {
            Tensor x = Spool.randomNormal(Shape.of(64, 256), 1);
            Variable w = new Variable(Spool.randomNormal(Shape.of(256, 256), 2).mul(0.05), "w");
            for (int step = 1; step <= steps; step++) {
                GradientTape tape = new GradientTape();
                Tensor loss;
                try (tape) {
                    loss = x.matmul(w).tanh().matmul(w).square().mean();
                }
                w.assignSub(tape.gradient(loss, w).mul(0.1));
                if (step % 500 == 0) {
                    System.out.println("step " + step + " loss " + loss.floatValue() + " " + cpu.stats());
                }
            }
            System.out.println("completed " + steps + " steps " + cpu.stats());
        }
    }
}
