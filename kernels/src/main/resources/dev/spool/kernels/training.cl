/*
 * Spool training kernels: optimizer updates as one launch per parameter (Backend.applyGradient-
 * Descent, applyMomentum, applyAdam; TensorFlow's ApplyGradientDescent, ApplyMomentum,
 * ApplyKerasMomentum, ApplyAdam). One work-item per element; inputs dense from an offset; each
 * new value goes to its own output buffer, never over an input.
 *
 * Each formula is written in the order of the SPI's javadoc and contraction into fused
 * multiply-adds is off, so that a fused update gives the same bits as the same update written
 * with the elementwise kernels on the same device (there, every operation is a separate kernel
 * and nothing can be contracted).
 *
 * -DT=float -DT_IS_FP=1 (default) or -DT=double -DT_IS_FP=1 -DT_IS_DOUBLE=1.
 */
#ifndef T
#define T float
#define T_IS_FP 1
#endif
#ifdef T_IS_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#pragma OPENCL FP_CONTRACT OFF

/* var_out = var - lr * grad */
kernel void apply_gradient_descent(global const T* var, long var_off, global const T* grad, long grad_off,
                                   T lr, global T* var_out, long n) {
    SPOOL_FOR_CHUNK(i, n) {
        var_out[i] = var[var_off + i] - lr * grad[grad_off + i];
    }
}

/* TensorFlow's form (keras == 0): accum = accum * momentum + grad; var -= lr * accum, or with
 * Nesterov var -= grad * lr + accum * momentum * lr. Keras's (keras != 0): accum = accum *
 * momentum - grad * lr; var += accum, or with Nesterov var += accum * momentum - grad * lr. */
kernel void apply_momentum(global const T* var, long var_off, global const T* accum, long accum_off,
                           global const T* grad, long grad_off, T lr, T momentum, uint nesterov, uint keras,
                           global T* var_out, global T* accum_out, long n) {
    SPOOL_FOR_CHUNK(i, n) {
        T g = grad[grad_off + i];
        T w = var[var_off + i];
        T acc;
        if (keras != 0u) {
            acc = accum[accum_off + i] * momentum - g * lr;
            var_out[i] = w + (nesterov != 0u ? acc * momentum - g * lr : acc);
        } else {
            acc = accum[accum_off + i] * momentum + g;
            var_out[i] = w - (nesterov != 0u ? g * lr + acc * momentum * lr : lr * acc);
        }
        accum_out[i] = acc;
    }
}

/* m = m + (grad - m) * (1 - beta1); v = v + (grad^2 - v) * (1 - beta2);
 * var -= m * alpha / (sqrt(v) + epsilon), alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t) */
kernel void apply_adam(global const T* var, long var_off, global const T* m, long m_off,
                       global const T* v, long v_off, global const T* grad, long grad_off,
                       T alpha, T one_minus_beta1, T one_minus_beta2, T epsilon,
                       global T* var_out, global T* m_out, global T* v_out, long n) {
    SPOOL_FOR_CHUNK(i, n) {
        T g = grad[grad_off + i];
        T mi = m[m_off + i];
        T vi = v[v_off + i];
        T mn = mi + (g - mi) * one_minus_beta1;
        T vn = vi + (g * g - vi) * one_minus_beta2;
        m_out[i] = mn;
        v_out[i] = vn;
        var_out[i] = var[var_off + i] - mn * alpha / (sqrt(vn) + epsilon);
    }
}
