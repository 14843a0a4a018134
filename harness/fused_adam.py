"""Adam's update as one TensorFlow kernel per weight tensor, for Keras 3 on TensorFlow.

Keras 3 writes Adam's update as a dozen separate element-wise operations per weight tensor (the
two moments, their differences and squares, the square root, the division, three assignments),
each one a pass over memory and a kernel launch. TensorFlow has the same update as one kernel,
`ResourceApplyAdam`, the one Keras 2's legacy Adam used. On one CPU thread Keras's update is
29-38 % of a training step of the blog's MLPs; the fused kernel cuts a step by 16-25 % and a
5-epoch trial by 11-17 % (docs/performance.md, "Adam in one kernel").

It is the same algorithm with the same hyperparameters and bias correction, but not bit for bit
the same numbers: the kernel computes `1 - beta_1` in float32 (0.100000024 for 0.9) where Keras
rounds the double 0.1 to float32, so after thousands of steps the weights differ like those of
another seed's rounding. A search's trials therefore differ from those made with stock Adam, as
after a TensorFlow upgrade; a baseline recorded with one is replayed within noise by the other.

Only a plain `keras.optimizers.Adam` on the TensorFlow backend, without AMSGrad, with dense
gradients is fused; anything else (Keras 2, another backend, sparse gradients) keeps Keras's own
update. The optimizer stays an `Adam` instance, so a saved model loads anywhere without this
package.
"""

from __future__ import annotations

import types
from typing import Any


def fuse_adam_update(optimizer: Any) -> bool:
    """Make `optimizer` apply its update with TensorFlow's fused Adam kernel; return whether it does.

    False (nothing changed) unless `optimizer` is exactly Keras 3's Adam on TensorFlow, without
    AMSGrad. The patch is on this instance only.
    """
    try:
        import keras
    except ImportError:
        return False
    if not keras.__version__.startswith("3.") or keras.backend.backend() != "tensorflow":  # Keras 2 first
        return False
    if type(optimizer) is not keras.optimizers.Adam or optimizer.amsgrad:
        return False
    optimizer.update_step = types.MethodType(_fused_update_step, optimizer)
    return True


def _fused_update_step(self, gradient, variable, learning_rate):
    import tensorflow as tf

    if isinstance(gradient, tf.IndexedSlices) or not hasattr(variable, "handle"):
        # Keras's own update; the class's, since only the instance is patched (and it is exactly Adam)
        return type(self).update_step(self, gradient, variable, learning_rate)
    dtype = variable.dtype
    # the bias-correction powers as Keras computes them, in the variable's dtype
    local_step = tf.cast(self.iterations + 1, dtype)
    index = self._get_variable_index(variable)
    return tf.raw_ops.ResourceApplyAdam(
        var=variable.handle,
        m=self._momentums[index].handle,
        v=self._velocities[index].handle,
        beta1_power=tf.pow(tf.cast(self.beta_1, dtype), local_step),
        beta2_power=tf.pow(tf.cast(self.beta_2, dtype), local_step),
        lr=tf.cast(learning_rate, dtype),
        beta1=tf.cast(self.beta_1, dtype),
        beta2=tf.cast(self.beta_2, dtype),
        epsilon=tf.cast(self.epsilon, dtype),
        grad=tf.cast(gradient, dtype),
    )


__all__ = ["fuse_adam_update"]
