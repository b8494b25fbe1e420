"""A computed atlas: :class:`SweepResult`, its statistics, and where it was computed.

Maps are (R_b, R_w) arrays per loss; element [j, i] is the start (w0[i], b0[j]). The platform,
device layout and library versions are recorded when the sweep is computed
(:func:`provenance`), so a sweep loaded on another machine still says where it came from.
"""

import dataclasses
import math
import platform
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from xent_jax import _devices as devices
from xent_jax import _validate
from xent_jax.sweep import _survival as survival
from xent_jax.sweep._spec import SweepSpec

if TYPE_CHECKING:  # xarray is imported only by to_xarray
    import xarray

FIELDS = ("takeoff_epoch", "half_error_epoch", "final_loss", "final_output")
EPOCH_FIELDS = FIELDS[:2]
TIME_UNIT = "epochs; gradient-flow time is learning_rates[loss] × epochs"


class SweepMetrics(NamedTuple):
    """Per-configuration results; epochs are int32 with −1 for a censored run."""

    takeoff_epoch: np.ndarray
    half_error_epoch: np.ndarray
    final_loss: np.ndarray
    final_output: np.ndarray


def field_dtypes(dtype: str) -> dict[str, np.dtype]:
    """Each field's dtype in a sweep run in ``dtype``: int32 epochs, values in ``dtype``."""
    return {f: np.dtype(np.int32 if f in EPOCH_FIELDS else dtype) for f in FIELDS}


def provenance() -> dict[str, Any]:
    """Where a sweep is being computed: platform, device layout, the code generation chosen for
    the platform (:func:`xent_jax._devices.codegen`) and library versions."""
    import jax
    import optax

    from xent_jax._version import __version__

    where = devices.layout()
    return {
        **where,
        "codegen": devices.codegen(where["platform"]),
        "versions": {
            "xent_jax": __version__,
            "jax": jax.__version__,
            "jaxlib": getattr(jax.lib, "__version__", jax.__version__),
            "optax": optax.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
    }


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """An atlas: per loss, arrays of shape (R_b, R_w); element [j, i] is the start (w0[i], b0[j]).

    Attributes:
      spec: the settings.
      w0: the weight axis, shape (R_w,) (fewer when thinned for a figure).
      b0: the bias axis, shape (R_b,).
      metrics: loss name -> :class:`SweepMetrics` of (R_b, R_w) arrays.
      compute_seconds: the sweep's compute only (no start-up, compilation or plotting).
      provenance: platform, ``device_count`` (devices of all processes), ``process_count``,
        ``codegen`` (None for a sweep computed before it was recorded) and library
        ``versions``, as recorded when the sweep was computed.
    """

    spec: SweepSpec
    w0: np.ndarray
    b0: np.ndarray
    metrics: dict[str, SweepMetrics]
    compute_seconds: float
    provenance: dict[str, Any]

    @property
    def config(self) -> dict[str, Any]:
        """The settings as JSON-ready parameters (``spec.to_dict()``)."""
        return self.spec.to_dict()

    @property
    def device_count(self) -> int:
        return self.provenance["device_count"]

    @property
    def runs(self) -> int:
        """One run is one start under one loss: R_w · R_b · (number of losses)."""
        return self.w0.size * self.b0.size * len(self.metrics)

    @property
    def config_epochs_per_second(self) -> float:
        return throughput(self.runs, self.spec.epochs, self.compute_seconds)

    def time(self, loss: str, field: str = "takeoff_epoch") -> np.ndarray:
        """An epoch field in gradient-flow time η × epochs (float64, NaN where censored)."""
        _validate.choice("field", field, EPOCH_FIELDS)
        epochs = getattr(self.metrics[loss], field)
        return np.where(epochs < 0, np.nan, epochs * self.spec.learning_rates[loss])

    def arrays(self) -> dict[str, np.ndarray]:
        """The content of ``sweep.npz``: axes ``w0``, ``b0`` and ``{loss}_{field}``."""
        out = {"w0": self.w0, "b0": self.b0}
        for loss, m in self.metrics.items():
            out.update({f"{loss}_{f}": getattr(m, f) for f in FIELDS})
        return out

    def summary(self) -> dict[str, Any]:
        """The content of ``sweep.json``."""
        stats = {
            loss: statistics(m, self.spec.learning_rates[loss], self.spec.epochs)
            for loss, m in self.metrics.items()
        }
        return summary(self.spec, self.provenance, self.compute_seconds, stats)

    def to_xarray(self) -> "xarray.Dataset":
        """The maps as an ``xarray.Dataset``: variables ``{loss}_{field}`` over (b0, w0), the
        axes as coordinates, the parameters and provenance as attributes (as the store holds
        them)."""
        import xarray

        variables = {key: (("b0", "w0"), value) for key, value in self.arrays().items()}
        del variables["w0"], variables["b0"]
        return xarray.Dataset(
            variables,
            coords={"w0": ("w0", self.w0), "b0": ("b0", self.b0)},
            attrs=attributes(self.spec, self.provenance),
        )


def attributes(spec: SweepSpec, recorded: dict[str, Any]) -> dict[str, Any]:
    """The dataset attributes of a sweep: parameters, time unit and provenance."""
    return {**spec.to_dict(), "time_unit": TIME_UNIT, **recorded}


def throughput(runs: int, epochs: int, seconds: float) -> float:
    return runs * epochs / seconds if seconds > 0 else math.inf


def statistics(m: SweepMetrics, learning_rate: float, epochs: int) -> dict[str, Any]:
    """Per epoch field, over every start (censored ones count as later than ``epochs``):
    censored fraction, the median and quantiles in epochs and η × epochs, each flagged when it
    is only a lower bound (:func:`~xent_jax.sweep.summarise`), and the largest finished epoch.

    ``median`` is None when more than half the starts are censored (then it is > E).
    """
    stats: dict[str, Any] = {}
    for field in EPOCH_FIELDS:
        values = np.asarray(getattr(m, field))
        found = values[values >= 0]
        summary = survival.summarise(values, learning_rate, epochs)
        median = survival.quantile(values, 0.5, epochs, learning_rate)
        stats[field] = {
            "censored_fraction": summary["censored_fraction"],
            "median": None if median.lower_bound else median.epoch,
            "median_time": None if median.lower_bound else median.flow_time,
            "median_is_lower_bound": median.lower_bound,
            "quantiles": summary["quantiles"],
            "max": int(found.max()) if found.size else None,
        }
    return stats


def summary(
    spec: SweepSpec, recorded: dict[str, Any], seconds: float, stats: dict[str, Any]
) -> dict[str, Any]:
    """The content of ``sweep.json``, from the spec, the provenance and the statistics."""
    return {
        **spec.to_dict(),
        "runs": spec.runs,
        "time_unit": TIME_UNIT,
        "device_count": recorded["device_count"],
        "platform": recorded["platform"],
        "codegen": recorded.get("codegen"),
        "compute_seconds": seconds,
        "config_epochs_per_second": throughput(spec.runs, spec.epochs, seconds),
        "sample_epochs_per_second": throughput(spec.runs * spec.samples, spec.epochs, seconds),
        "statistics": stats,
        "versions": recorded["versions"],
    }
