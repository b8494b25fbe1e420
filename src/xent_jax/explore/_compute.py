"""The explorer's numbers: each loss's run from one start (:func:`runs`) and the atlas over a grid
of starts (:func:`atlas`), computed by the library's own code, compiled once per static setting.

- a run is :func:`xent_jax.core.train`; the atlas is the sweep's compiled
  :class:`~xent_jax.sweep._kernel.Runner`, one per (loss, rule, optimizer, epochs, starts,
  samples), kept here and called with new inputs: w0, b0, x, y and η are inputs of the compiled
  programs, so a new value of a continuous control costs no compilation;
- epochs are static in both (a ``jax.lax.scan`` length), so each is run for
  :func:`epoch_bucket` epochs, at most 25 % more, and cut back to E: a drag over the epochs
  compiles about four programs per doubling, not one per value. Cutting is exact, because every
  metric is the *first* epoch at which its condition holds (:mod:`xent_jax.core._metrics`): a
  run of E' ≥ E epochs has the E-epoch run's trajectory as its first E + 1 records, and a metric
  found after the E-epoch run's horizon is censored in it.
"""

import dataclasses
import functools
import time

import numpy as np

from xent_jax.core._metrics import CENSORED
from xent_jax.core._registry import Loss, Optimizer
from xent_jax.core._training import Run, Trajectory, train
from xent_jax.explore._state import ExplorerState
from xent_jax.sweep import _kernel as kernel
from xent_jax.sweep._spec import SweepSpec

RUNNERS = 16  # compiled atlas programs kept (a few settings × buckets; each ~1 s to compile)
_COMPILED: set[tuple] = set()  # the static settings runs() and atlas() have compiled for


def epoch_bucket(epochs: int) -> int:
    """E rounded up to a multiple of 2^(⌊log₂ E⌋ − 2): four buckets per doubling, each at most
    25 % more epochs than asked (E ≤ 8 is its own bucket)."""
    step = 1 << max(0, epochs.bit_length() - 3)
    return -(-epochs // step) * step


def truncate(run: Run, epochs: int) -> Run:
    """The first ``epochs`` epochs of a longer run, as :func:`train` would have returned them.

    A metric is the first epoch at which its condition holds: the takeoff epoch t ∈ [0, E − 1]
    (‖g_{t+1}‖ < ‖g_t‖ needs epoch t + 1 ≤ E), an error-fraction epoch t ∈ [1, E]; one found
    later is censored (None) in the shorter run.
    """
    if run.recorded_every != 1:  # the explorer's limits keep every epoch recorded
        raise ValueError("only a run with every epoch recorded can be cut")
    trajectory = Trajectory(*(values[: epochs + 1] for values in run.trajectory))

    def within(epoch: int | None, last: int) -> int | None:
        return epoch if epoch is not None and epoch <= last else None

    return dataclasses.replace(
        run,
        settings=dataclasses.replace(run.settings, epochs=epochs),
        trajectory=trajectory,
        takeoff_epoch=within(run.takeoff_epoch, epochs - 1),
        half_error_epoch=within(run.half_error_epoch, epochs),
        fraction_epochs={f: within(e, epochs) for f, e in run.fraction_epochs.items()},
    )


def _static(state: ExplorerState, what: str) -> tuple:
    """What a compiled program is specific to: all but w0, b0, x, y and η."""
    s = state.settings()
    starts = state.resolution if what == "atlas" else 1
    return (what, s.rule, s.optimizer, epoch_bucket(s.epochs), s.samples, starts)


def compiled(state: ExplorerState) -> bool:
    """Whether :func:`runs` and :func:`atlas` have run with this state's static settings (so
    they will not compile)."""
    return {_static(state, "runs"), _static(state, "atlas")} <= _COMPILED


def runs(state: ExplorerState) -> dict[str, Run]:
    """Each loss's run from (w0, b0) under the state's settings, as :func:`train` returns it.

    Raises:
      InputError: naming a bad value of the state.
    """
    state = state.check()
    settings = state.settings()
    longer = dataclasses.replace(settings, epochs=epoch_bucket(settings.epochs))
    done = {
        loss: truncate(train(longer.for_loss(loss), state.w0, state.b0), settings.epochs)
        for loss in settings.loss_names
    }
    _COMPILED.add(_static(state, "runs"))
    return done


@dataclasses.dataclass(frozen=True)
class Atlas:
    """Each loss's takeoff and half-error epochs over the grid of starts.

    Attributes:
      spec: the grid and settings: element [j, i] of every map is the start
        (w0[i], b0[j]) of ``spec.axes()``, as in :func:`xent_jax.sweep.sweep`.
      takeoff_epoch, half_error_epoch: loss -> (R, R) int32 maps, ``CENSORED`` (−1) where
        the condition did not hold within the epochs.
      seconds: the compiled calls' compute time, all losses.
    """

    spec: SweepSpec
    takeoff_epoch: dict[str, np.ndarray]
    half_error_epoch: dict[str, np.ndarray]
    seconds: float

    def field(self, metric: str) -> dict[str, np.ndarray]:
        """The maps of ``"takeoff"`` or ``"half_error"`` epochs."""
        return self.takeoff_epoch if metric == "takeoff" else self.half_error_epoch

    def index(self, w0: float, b0: float) -> tuple[int, int]:
        """(i, j) of the grid's start nearest to (w0, b0): w0[i], b0[j]."""
        w_axis, b_axis = self.spec.axes()
        i = int(np.abs(w_axis.astype(np.float64) - w0).argmin())
        j = int(np.abs(b_axis.astype(np.float64) - b0).argmin())
        return i, j

    def nearest(self, w0: float, b0: float) -> tuple[float, float]:
        """The grid's start nearest to (w0, b0), as the grid holds it (float32 values)."""
        w_axis, b_axis = self.spec.axes()
        i, j = self.index(w0, b0)
        return float(w_axis[i]), float(b_axis[j])

    def at(self, metric: str, loss: str, w0: float, b0: float) -> int | None:
        """The metric at the grid's start nearest to (w0, b0) (None when censored)."""
        i, j = self.index(w0, b0)
        value = int(self.field(metric)[loss][j, i])
        return None if value == CENSORED else value

    def reached(self, metric: str) -> dict[str, float]:
        """Per loss, the fraction of all starts (censored ones counted) whose epoch was found."""
        return {loss: float(np.mean(m != CENSORED)) for loss, m in self.field(metric).items()}


@functools.lru_cache(maxsize=RUNNERS)
def _runner(
    loss: Loss, rule: str, optimizer: Optimizer, epochs: int, starts: int, samples: int
) -> kernel.Runner:
    return kernel.Runner(loss, rule, optimizer, epochs, "float32", starts, samples=samples)


def atlas(state: ExplorerState) -> Atlas:
    """Both losses' atlas over the square of starts the seed's atlas covers, R × R starts.

    Raises:
      InputError: naming a bad value of the state.
    """
    settings = state.settings()
    spec = SweepSpec(settings, resolution_w=state.resolution, resolution_b=state.resolution)
    w_axis, b_axis = spec.axes()
    ww, bb = np.meshgrid(w_axis, b_axis)  # element [j, i] = (w0[i], b0[j]), as the sweep's
    x, y = spec.sample_inputs()
    epochs = settings.epochs
    takeoff, half = {}, {}
    started = time.perf_counter()
    for loss in spec.losses:
        runner = _runner(
            spec.loss(loss),
            spec.rule,
            spec.optimizer,
            epoch_bucket(epochs),
            ww.size,
            spec.samples,
        )
        inputs = kernel.Inputs(ww.ravel(), bb.ravel(), x, y, spec.learning_rates[loss])
        m, _ = runner(inputs)
        # found after the horizon: censored at E (takeoff t ≤ E − 1, half error t ≤ E)
        found = np.where(m.takeoff_epoch < epochs, m.takeoff_epoch, CENSORED)
        takeoff[loss] = found.astype(np.int32).reshape(spec.shape)
        found = np.where(m.half_error_epoch <= epochs, m.half_error_epoch, CENSORED)
        half[loss] = found.astype(np.int32).reshape(spec.shape)
    _COMPILED.add(_static(state, "atlas"))
    return Atlas(spec, takeoff, half, time.perf_counter() - started)
