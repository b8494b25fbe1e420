"""Independent float64 NumPy references that the tests compare the library against.

Written from the formulas, never from the library: closed-form gradients (no autodiff), the
optimizers as published, the metrics by their definitions. One copy of each, shared by every
test file (``from oracles import descend``).

- :func:`descend`: gradient descent of the sigmoid neuron a = σ(w·x + b) on the mean loss over
  N samples, from one start or a grid of starts, with SGD, momentum or Adam and either rule.
- :func:`z_recursion`: the same descent for one sample reduced to its pre-activation z.
- :func:`network_loss_and_grads` and :func:`network_sgd`: the 64–30–10 network's forward pass
  and hand-written backprop, and SGD on it.
"""

from dataclasses import dataclass

import numpy as np

MOMENTUM = 0.9  # optax.sgd(η, momentum=0.9): m ← g + 0.9·m, step η·m
ADAM_B1, ADAM_B2, ADAM_EPS = 0.9, 0.999, 1e-8  # optax.adam's defaults (Kingma & Ba 2015)


def sigmoid(z):
    """σ(z) = 1 / (1 + e^−z)."""
    return 1 / (1 + np.exp(-z))


def dc_dz(loss, a, y, rule="autodiff"):
    """The step's factor per sample, what multiplies (x, 1) in the gradient.

    Quadratic C = ½(a − y)²: ∂C/∂z = (a − y)·σ′(z), σ′(z) = a(1 − a), under either rule.
    Cross-entropy: ∂C/∂z = a − y (σ′ cancels); the book rule puts ∂C/∂a = (a − y)/(a(1 − a))
    in its place.
    """
    if loss == "mse":
        return (a - y) * a * (1 - a)
    return a - y if rule == "autodiff" else (a - y) / (a * (1 - a))


def cost(loss, a, y):
    """C(a, y) per sample: ½(a − y)², or −[y ln a + (1 − y) ln(1 − a)]."""
    if loss == "mse":
        return 0.5 * (a - y) ** 2
    return -(y * np.log(a) + (1 - y) * np.log1p(-a))


def epoch(value):
    """An epoch as the references write it: the library's ``None`` (never) becomes −1."""
    return -1 if value is None else value


def _first(hit, offset):
    """Index + offset of the first True along axis 0, −1 where there is none."""
    return np.where(hit.any(0), hit.argmax(0) + offset, -1)


@dataclass(frozen=True)
class Descent:
    """A descent's record, one row per epoch t = 0 … E (the state after t updates).

    Shapes: ``(E + 1, *starts)``; ``output`` is ``(E + 1, *starts, N)``.
    """

    w: np.ndarray
    b: np.ndarray
    output: np.ndarray  # a_i = σ(w·x_i + b)
    loss: np.ndarray  # mean over the samples of C(a_i, y_i)
    grad_w: np.ndarray  # mean of x_i·∂C/∂z_i
    grad_b: np.ndarray  # mean of ∂C/∂z_i
    error: np.ndarray  # mean of |a_i − y_i|

    def takeoff_epoch(self):
        """Min t in [0, E − 1] with ‖g_{t+1}‖ < ‖g_t‖; −1 if never. Shape ``starts``."""
        norm = np.hypot(self.grad_w, self.grad_b)
        return _first(norm[1:] < norm[:-1], 0)

    def fraction_epoch(self, fraction):
        """Min t in [1, E] with e_t ≤ fraction·e_0; −1 if never. Shape ``starts``."""
        return _first(self.error[1:] <= fraction * self.error[0], 1)

    def half_error_epoch(self):
        """:meth:`fraction_epoch` at ½."""
        return self.fraction_epoch(0.5)


def descend(loss, w0, b0, xs, ys, learning_rate, epochs, rule="autodiff", optimizer="sgd"):
    """Full-batch descent on the mean loss over the samples, from every start, in float64.

    Args:
      loss: ``"mse"`` or ``"ce"``.
      w0, b0: starts, scalars or arrays of one shape (``starts``).
      xs, ys: the samples, scalars (one sample) or sequences of N.
      learning_rate: η.
      epochs: E, the number of updates.
      rule: ``"autodiff"`` (the true gradient) or ``"book"`` (see :func:`dc_dz`).
      optimizer: ``"sgd"``, ``"momentum"`` or ``"adam"``.

    Returns:
      The :class:`Descent`, rows 0 … E.
    """
    xs, ys = np.atleast_1d(np.asarray(xs, np.float64)), np.atleast_1d(np.asarray(ys, np.float64))
    w, b = np.asarray(w0, np.float64), np.asarray(b0, np.float64)
    w, b = np.broadcast_arrays(w, b)
    m = np.zeros((2, *w.shape))  # momentum trace / Adam's first moment
    v = np.zeros((2, *w.shape))  # Adam's second moment
    rows = []
    for t in range(epochs + 1):
        a = sigmoid(w[..., None] * xs + b[..., None])
        d = dc_dz(loss, a, ys, rule)
        g = np.stack([np.mean(xs * d, -1), np.mean(d, -1)])  # ∇ = mean of (x, 1)·∂C/∂z
        rows.append((w, b, a, np.mean(cost(loss, a, ys), -1), *g, np.mean(np.abs(a - ys), -1)))
        if t == epochs:
            break
        if optimizer == "sgd":
            step = learning_rate * g
        elif optimizer == "momentum":
            m = g + MOMENTUM * m
            step = learning_rate * m
        else:  # Adam, bias-corrected moments
            m = ADAM_B1 * m + (1 - ADAM_B1) * g
            v = ADAM_B2 * v + (1 - ADAM_B2) * g * g
            m_hat, v_hat = m / (1 - ADAM_B1 ** (t + 1)), v / (1 - ADAM_B2 ** (t + 1))
            step = learning_rate * m_hat / (np.sqrt(v_hat) + ADAM_EPS)
        w, b = w - step[0], b - step[1]
    return Descent(*(np.array(column) for column in zip(*rows, strict=True)))


def z_recursion(loss, z0, x, y, learning_rate, epochs):
    """One-sample SGD seen through z = w·x + b alone: z ← z − η(1 + x²)·∂C/∂z, in float64.

    With one sample, ‖g‖ = √(1 + x²)·|∂C/∂z| and e = |σ(z) − y| depend on z only, so the
    metrics follow from this one-dimensional recursion whatever (w0, b0) gave z0.

    Returns:
      (takeoff epoch, half-error epoch), each of z0's shape, −1 where never.
    """
    z = np.asarray(z0, np.float64)
    a = sigmoid(z)
    g, e0 = np.abs(dc_dz(loss, a, y)), np.abs(a - y)
    takeoff, half = np.full(z.shape, -1), np.full(z.shape, -1)
    for t in range(1, epochs + 1):
        z = z - learning_rate * (1 + x * x) * dc_dz(loss, a, y)
        a = sigmoid(z)
        g_new = np.abs(dc_dz(loss, a, y))
        takeoff = np.where((takeoff < 0) & (g_new < g), t - 1, takeoff)
        half = np.where((half < 0) & (np.abs(a - y) <= 0.5 * e0), t, half)
        g = g_new
    return takeoff, half


def network_loss_and_grads(params, x, y, output="sigmoid", loss="ce"):
    """The 64–30–10 network's mean loss and its gradients, by hand-written backprop in float64.

    Hidden layer h = σ(x·W₁ + b₁), logits z = h·W₂ + b₂; the output and loss pairings:
    sigmoid with ``"mse"`` (∂C/∂z = (a − y)·a(1 − a), σ′ kept) or ``"ce"`` (∂C/∂z = a − y);
    ``"softmax"`` with cross-entropy (∂C/∂z = softmax(z) − y), or with ``"squentropy"``
    (cross-entropy plus Σ_{k≠y} z_k²/9); ``"linear"`` with the square (∂C/∂z = z − y).
    ``loss`` matters for the sigmoid and softmax outputs.

    Args:
      params: (W₁ (64, 30), b₁ (30,), W₂ (30, 10), b₂ (10,)).
      x: inputs, (n, 64). y: one-hot targets, (n, 10).

    Returns:
      (the loss averaged over the n examples, gradients in the order of ``params``).
    """
    w1, b1, w2, b2 = (np.asarray(p, np.float64) for p in params)
    h = sigmoid(x @ w1 + b1)
    z = h @ w2 + b2
    n = x.shape[0]
    if output == "softmax":
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        value = -np.sum(y * np.log(p)) / n
        delta2 = p - y  # ∂C/∂z = softmax(z) − y
        if loss == "squentropy":  # + Σ_{k≠y} z_k²/9: ∂/∂z_k = 2z_k/9 off the target
            value += np.sum((1 - y) * z**2) / 9 / n
            delta2 = delta2 + 2 * (1 - y) * z / 9
    elif output == "linear":
        value = np.sum(0.5 * (z - y) ** 2) / n
        delta2 = z - y  # no σ′ at a linear output
    elif loss == "mse":
        a = sigmoid(z)
        value = np.sum(0.5 * (a - y) ** 2) / n
        delta2 = (a - y) * a * (1 - a)  # ∂C/∂z keeps σ′
    else:
        a = sigmoid(z)
        value = -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)) / n
        delta2 = a - y  # σ′ cancels
    delta1 = (delta2 @ w2.T) * h * (1 - h)  # back through W₂ and the hidden σ′
    grads = (x.T @ delta1 / n, delta1.sum(0) / n, h.T @ delta2 / n, delta2.sum(0) / n)
    return value, grads


def network_sgd(params, x, y, learning_rate, batches, output="sigmoid", loss="ce"):
    """Plain SGD on the network, one step per batch of example indices.

    Args:
      batches: per epoch, a sequence of index arrays (the batches in order).

    Returns:
      The loss over all of (x, y) before the first epoch and after each one.
    """
    params = [np.asarray(p, np.float64) for p in params]
    losses = [network_loss_and_grads(params, x, y, output, loss)[0]]
    for epoch in batches:
        for batch in epoch:
            _, grads = network_loss_and_grads(params, x[batch], y[batch], output, loss)
            params = [p - learning_rate * g for p, g in zip(params, grads, strict=True)]
        losses.append(network_loss_and_grads(params, x, y, output, loss)[0])
    return losses
