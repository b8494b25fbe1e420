"""The argument checks and warnings the softmax family shares, and those of the fused losses'
linear heads (shapes and dtypes, sample weights, the accumulation dtype, static settings).

Static checks (shapes, options) run always and raise :class:`~xent_jax.errors.InputError` with
one line naming the bad value. Checks that need values (a class index out of range, checked in
the target's own integer dtype so that 2³² + 2 never wraps to class 2; inputs that look like
probabilities; a binary target outside [0, 1]) run only on concrete arrays: under ``jit`` they
cost nothing, and each caller documents what a bad value gives there.
"""

import warnings
from typing import Any, overload

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax._arrays import is_traced
from xent_jax.errors import InputError

REDUCTIONS = ("mean", "sum", "none")

# How close a row must be to a distribution (or its logarithm) to trigger the warning. Float32
# softmax rows sum to 1 within ~1e-6; logits drawn at random almost never come this close.
_PROBABILITY_TOLERANCE = 1e-4


class LogitsLookLikeProbabilitiesWarning(UserWarning):
    """``softmax_cross_entropy`` was given probabilities or log-probabilities where logits belong.

    Probabilities as logits (the double-softmax bug) bound the logits to [0, 1]: the loss can
    never fall below log(1 + (C − 1)/e) and its gradient shrinks as the inner softmax
    saturates, yet training runs without an error. Log-probabilities give the right value
    (log-softmax is idempotent) but usually mean ``nll_loss`` was intended. Filter it with
    ``warnings.filterwarnings("ignore", category=LogitsLookLikeProbabilitiesWarning)`` or
    pass ``check_inputs=False``.
    """


class TargetOutsideUnitIntervalWarning(UserWarning):
    """A binary or multilabel target lies outside [0, 1]; the loss is computed anyway, as torch's.

    ℓ(x) = softplus(x) − t·x is defined for every real t, and PyTorch computes it, but for t
    outside [0, 1] it has no minimum: its slope σ(x) − t never vanishes, so gradient descent
    drives the logit to ±∞ and the loss to −∞. Labels in {−1, 1} (the margin convention) are
    the usual cause. Filter it with ``warnings.filterwarnings("ignore",
    category=TargetOutsideUnitIntervalWarning)`` or pass ``check_inputs=False``.
    """


def axis_size(axis_name: Any) -> int:
    """The size of mesh axis ``axis_name`` of the enclosing ``jax.shard_map``; InputError
    naming it when there is no such axis (JAX raises NameError)."""
    try:
        return lax.axis_size(axis_name)
    except NameError:
        raise InputError(
            f"axis_name {axis_name!r} is not a mesh axis of the enclosing jax.shard_map (call "
            "the vocabulary-parallel form inside shard_map, with the axis the vocabulary is "
            "split along)"
        ) from None


def class_axis(ndim: int, axis: Any) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise InputError(f"axis must be an integer, got {axis!r}")
    if ndim == 0:
        raise InputError("logits must have a class axis, got a scalar")
    if not -ndim <= axis < ndim:
        raise InputError(f"axis {axis} is out of range for logits with {ndim} dimensions")
    return int(axis) % ndim


def class_weight(weight: ArrayLike | None, num_classes: int, dtype: Any) -> jax.Array | None:
    if weight is None:
        return None
    weight = jnp.asarray(weight, dtype=dtype)
    if weight.shape != (num_classes,):
        raise InputError(
            f"weight must have shape ({num_classes},), one entry per class, got {weight.shape}"
        )
    return weight


def ignore_index(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError(f"ignore_index must be an integer, got {value!r}")
    return int(value)


def smoothing(label_smoothing: ArrayLike) -> ArrayLike:
    if is_traced(label_smoothing):
        return label_smoothing  # outside [0, 1] under jit: NaN (see bad_smoothing)
    if isinstance(label_smoothing, str | bytes | bool) or np.ndim(label_smoothing) != 0:
        raise InputError(f"label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    return _validate.unit_interval("label_smoothing", label_smoothing)


def smoothing_is_zero(label_smoothing: ArrayLike) -> bool:
    return isinstance(label_smoothing, float) and label_smoothing == 0.0


def bad_smoothing(label_smoothing: ArrayLike) -> jax.Array | bool:
    """Traced ε outside [0, 1] (concrete ones were refused): poisons every element."""
    if not is_traced(label_smoothing):
        return False
    epsilon = jnp.asarray(label_smoothing)
    return (epsilon < 0) | (epsilon > 1)


def check_class_indices(target: Any, num_classes: int, ignore: int) -> None:
    """Concrete indices, in their own dtype (before any cast to JAX's int32)."""
    if is_traced(target):
        return
    values = np.asarray(target)
    if not np.issubdtype(values.dtype, np.integer):
        return
    bad = (values != ignore) & ((values < 0) | (values >= num_classes))
    if bad.any():
        raise InputError(
            f"class index {values[bad].flat[0]} is out of range for {num_classes} classes "
            f"(valid: 0..{num_classes - 1}, or ignore_index {ignore})"
        )


def check_index_target(
    target: Any, shape: tuple[int, ...], axis: int, whose: str, ignore: int
) -> None:
    """A class-index target has the input's shape without the class axis, and valid indices."""
    expected = shape[:axis] + shape[axis + 1 :]
    if np.shape(target) != expected:
        raise InputError(
            f"class-index target must have shape {expected} (the {whose} {shape} "
            f"without axis {axis}), got {np.shape(target)}"
        )
    check_class_indices(target, shape[axis], ignore)


def warn_if_probabilities(
    logits: jax.Array,
    axis: int,
    *,
    only_probabilities: bool = False,
    caller: str = "softmax_cross_entropy",
) -> None:
    """Warn when every row along ``axis`` is a distribution, or the logarithm of one."""
    if is_traced(logits) or logits.size == 0 or logits.shape[axis] < 2:
        return
    x = np.asarray(logits, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        if np.all((x >= 0) & (x <= 1)) and np.allclose(
            x.sum(axis=axis), 1.0, rtol=0, atol=_PROBABILITY_TOLERANCE
        ):
            kind = "probabilities (rows in [0, 1] summing to 1): the double-softmax bug"
            if only_probabilities:
                kind = "probabilities (rows in [0, 1] summing to 1); it takes log-probabilities"
        elif only_probabilities:
            return
        else:
            top = np.max(x, axis=axis, keepdims=True)
            lse = np.squeeze(top, axis) + np.log(np.sum(np.exp(x - top), axis=axis))
            if not (np.all(x <= 0) and np.allclose(lse, 0.0, rtol=0, atol=_PROBABILITY_TOLERANCE)):
                return
            kind = "log-probabilities (log-sum-exp 0 along the class axis); nll_loss takes those"
    warnings.warn(
        f"{caller}: the inputs look like {kind}; check what is passed, or "
        "check_inputs=False if this is intended",
        LogitsLookLikeProbabilitiesWarning,
        stacklevel=3,
    )


def warn_if_outside_unit_interval(target: Any, caller: str) -> None:
    """Warn, naming the first offending value, when a concrete target leaves [0, 1]."""
    if is_traced(target):
        return
    values = np.asarray(target)
    if not (np.issubdtype(values.dtype, np.number) or values.dtype == bool):
        raise InputError(f"target must be numeric, got {values.dtype}")
    bad = ~((values >= 0) & (values <= 1))
    if bad.any():
        warnings.warn(
            f"{caller}: target {values[bad].flat[0].item()!r} lies outside [0, 1]; the loss is "
            "computed as torch's softplus(x) − t·x, which has no minimum there",
            TargetOutsideUnitIntervalWarning,
            stacklevel=3,
        )


def reduce(losses: jax.Array, reduction: str, denominator: ArrayLike) -> jax.Array:
    if reduction == "none":
        return losses
    total = jnp.sum(losses)
    # 0/0 = NaN when nothing counts, as in PyTorch; the gradient is still zero (see callers).
    return total if reduction == "sum" else total / denominator


# --- the linear head of the fused losses ---------------------------------------------------------

# Default chunk: the largest number of columns with N × chunk ≤ this many logits (32 MiB of
# float32), at least 128 so that each matrix product stays efficient.
_CHUNK_ELEMENTS = 2**23
_MIN_CHUNK = 128


def linear_head(hidden: Any, weight: Any, bias: Any, prefix: str = "") -> tuple:
    """hidden (..., D) flattened to (N, D), weight (V, D) and bias (V,) checked together."""
    names = [f"{prefix}{name}" for name in ("hidden", "weight", "bias")]
    hidden, weight = jnp.asarray(hidden), jnp.asarray(weight)
    if not jnp.issubdtype(hidden.dtype, jnp.floating) or hidden.ndim == 0:
        raise InputError(
            f"{names[0]} must be a floating array (..., D), got {hidden.dtype} {hidden.shape}"
        )
    features = hidden.shape[-1]
    if weight.ndim != 2 or weight.shape[1] != features or weight.shape[0] == 0:
        raise InputError(
            f"{names[1]} must have shape (V, {features}) with V ≥ 1 (torch's Linear layout, "
            f"D = {names[0]}'s last axis), got {weight.shape}"
        )
    if weight.dtype != hidden.dtype:
        raise InputError(f"{names[1]} dtype {weight.dtype} must equal {names[0]}'s {hidden.dtype}")
    vocab = weight.shape[0]
    if bias is not None:
        bias = jnp.asarray(bias)
        if bias.shape != (vocab,) or bias.dtype != hidden.dtype:
            raise InputError(
                f"{names[2]} must have shape ({vocab},) and dtype {hidden.dtype}, "
                f"got {bias.shape} {bias.dtype}"
            )
    return hidden.reshape(-1, features), weight, bias


def index_target(target: Any, shape: tuple[int, ...], whose: str = "hidden") -> None:
    if not jnp.issubdtype(jnp.result_type(target), jnp.integer):
        raise InputError(f"target must hold integer class indices, got {jnp.result_type(target)}")
    if np.shape(target) != shape:
        raise InputError(
            f"target must have shape {shape} ({whose}'s without its last axis), "
            f"got {np.shape(target)}"
        )


def accumulation_dtype(choice: Any, dtype: Any) -> np.dtype:
    """float32 for bfloat16/float16 inputs and the input's own dtype from float32 up, by default;
    a chosen dtype must be floating, no narrower than the input's, and available (float64 needs
    JAX's 64-bit mode)."""
    dtype = np.dtype(dtype)
    if choice is None:
        return np.dtype(np.float32) if jnp.finfo(dtype).bits < 32 else dtype
    try:
        acc = np.dtype(choice)
    except TypeError:
        raise InputError(f"accumulation_dtype must be a floating dtype, got {choice!r}") from None
    if not jnp.issubdtype(acc, jnp.floating):
        raise InputError(f"accumulation_dtype must be a floating dtype, got {acc.name}")
    if acc != dtype and jnp.finfo(acc).bits <= jnp.finfo(dtype).bits:
        raise InputError(f"accumulation_dtype {acc.name} is narrower than the input's {dtype.name}")
    if jax.dtypes.canonicalize_dtype(acc) != acc:
        raise InputError(f"accumulation_dtype {acc.name} needs JAX's 64-bit mode (jax_enable_x64)")
    return acc


@overload
def static_positive(name: str, value: Any) -> float: ...
@overload
def static_positive(name: str, value: Any, *, optional: bool) -> float | None: ...
def static_positive(name: str, value: Any, *, optional: bool = False) -> float | None:
    """A setting that shapes the computation (softcap, logit_scale, temperature): a concrete
    finite number > 0 (or None where ``optional``)."""
    if value is None and optional:
        return None
    if is_traced(value):
        raise InputError(f"{name} must be a concrete number (a static setting), got a traced value")
    if isinstance(value, str | bytes | bool) or np.ndim(value) != 0:
        raise InputError(f"{name} must be a number greater than 0, got {value!r}")
    return _validate.positive(name, value)


def sample_weights(value: Any, shape: tuple[int, ...], acc: Any) -> jax.Array | None:
    """Per-position weights (target's shape), flattened; concrete ones finite and ≥ 0."""
    if value is None:
        return None
    if np.shape(value) != shape:
        raise InputError(
            f"sample_weight must have the target's shape {shape}, got {np.shape(value)}"
        )
    if not is_traced(value):
        values = np.asarray(value)
        if not (np.issubdtype(values.dtype, np.number) or values.dtype == bool):
            raise InputError(f"sample_weight must be numeric, got {values.dtype}")
        bad = ~(np.isfinite(values) & (values >= 0))
        if bad.any():
            raise InputError(
                f"sample_weight must be finite and at least 0, got {values[bad].flat[0].item()!r}"
            )
    return lax.stop_gradient(jnp.asarray(value, acc).reshape(-1))


def chunk_columns(chunk_size: Any, rows: int, vocab: int) -> int:
    """The columns per chunk: the caller's, or the largest with N × chunk ≤ 2²³ (≥ 128)."""
    if chunk_size is None:
        chunk = max(_MIN_CHUNK, _CHUNK_ELEMENTS // max(rows, 1))
    else:
        chunk = _validate.at_least("chunk_size", chunk_size, 1)
    return min(chunk, vocab)
