"""Help texts rendered from where each default is defined (the seed, the registries, the data
sets), so ``--help`` cannot drift from the code; none of this imports JAX."""

from collections.abc import Iterable, Mapping
from typing import Any

from xent_jax.core._registry import LOSSES, Optimizer


def choices(names: Iterable[str], default: str | None = None) -> str:
    text = ", ".join(names)
    return text if default is None else f"{text} (default {default})"


def learning_rates() -> str:
    """``mse 0.15, ce 0.005``: each registered loss's default η."""
    return ", ".join(f"{name} {loss.learning_rate:g}" for name, loss in LOSSES.items())


def data(builtin: Mapping[str, Any]) -> str:
    return (
        "N samples: x:y,x:y,… (a value may start with '-'), a CSV file with columns x,y, or one "
        "of " + ", ".join(builtin) + " (default: one sample, --x and --y)"
    )


def rules() -> str:
    return "autodiff (the true gradient) or book (Nielsen's demo rule) (default autodiff)"


def optimizers(registry: Mapping[str, Optimizer], default: str = "sgd") -> str:
    """The optimizer names with their hyper-parameters: ``sgd, momentum (momentum 0.9), …``."""
    parts = []
    for name, optimizer in registry.items():
        values = ", ".join(f"{k} {v:g}" for k, v in optimizer.hyperparameters)
        parts.append(f"{name} ({values})" if values else name)
    return ", ".join(parts) + f" (default {default})"
