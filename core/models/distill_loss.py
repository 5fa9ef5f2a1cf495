"""The distillation loss and metric a Keras student compiles with (core.training.distill gathers the
teacher's probabilities). They sit beside the model code because the model compiles with them; a
saved student names a standard loss instead, so loading a model file never needs this module.

Loss = (1 - weight) x cross-entropy with the labels + weight x T^2 x KL(teacher_T || student_T),
where p_T is p^(1/T), renormalised (Hinton et al. 2015).
"""

from __future__ import annotations


def loss(temperature: float, weight: float):
    """The distillation loss for targets [one-hot labels | teacher_T] (20 columns) and the student's
    probabilities (10 columns)."""
    from keras import ops

    def distillation(y, p):
        hard, soft = y[:, :10], y[:, 10:]
        p = ops.clip(ops.cast(p, "float32"), 1e-7, 1.0)
        cross_entropy = -ops.sum(hard * ops.log(p), axis=-1)
        logits = ops.log(p) / temperature
        log_student = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
        kl = ops.sum(soft * (ops.log(ops.clip(soft, 1e-7, 1.0)) - log_student), axis=-1)
        return (1 - weight) * cross_entropy + weight * temperature * temperature * kl

    return distillation


def accuracy(y, p):
    """Accuracy against the labels in the first 10 columns of distillation targets."""
    from keras import ops

    return ops.cast(ops.equal(ops.argmax(y[:, :10], axis=-1), ops.argmax(p, axis=-1)), "float32")
