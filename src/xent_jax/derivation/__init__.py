"""The cross-entropy derived from one requirement, step by step, and checked.

For one sigmoid neuron a = σ(z), z = w·x + b, look for a loss C(a) whose bias gradient has
no σ′ factor:

    ∂C/∂b = a − y                                            (the requirement)
    ∂C/∂b = ∂C/∂a · σ′(z) · ∂z/∂b = ∂C/∂a · a(1 − a) · 1     (chain rule, σ′ = a(1 − a))
    ⇒ ∂C/∂a = (a − y) / (a(1 − a)) = A/a + B/(1 − a),   a − y = A(1 − a) + B·a
    a = 0 gives A = −y, a = 1 gives B = 1 − y
    ⇒ C = −[y ln a + (1 − y) ln(1 − a)] + constant           (term by term, u = 1 − a)

:func:`derive` redoes this in SymPy (the optional extra ``symbolic``) and checks every
intermediate expression; :func:`check_derivation` checks the result numerically with JAX and
NumPy, and needs no SymPy.

References:
  M. Nielsen, *Neural Networks and Deep Learning*, ch. 3 (2015), "Introducing the
  cross-entropy cost function" (the same derivation, as a problem).
"""

from typing import TYPE_CHECKING

from xent_jax import _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    {
        "xent_jax.derivation._numeric": [
            "NumericCheck",
            "antiderivative",
            "bias_gradient_error",
            "check_derivation",
            "derivative_error",
            "integral_error",
            "integrand",
            "simpson",
        ],
        "xent_jax.derivation._symbolic": [
            "Derivation",
            "DerivationStep",
            "derive",
        ],
    },
)

if TYPE_CHECKING:
    from xent_jax.derivation._numeric import (
        NumericCheck,
        antiderivative,
        bias_gradient_error,
        check_derivation,
        derivative_error,
        integral_error,
        integrand,
        simpson,
    )
    from xent_jax.derivation._symbolic import (
        Derivation,
        DerivationStep,
        derive,
    )
