"""The compiled sweep: ``jit ∘ shard_map ∘ lax.map ∘ vmap`` of the one training loop, in segments.

Every configuration runs the core's dynamics (``start``, ``advance`` and ``finish`` of
:mod:`xent_jax.core._loop`, with the step direction and optax optimizer of a single run) and
its online metrics, so a start of the sweep reports what :func:`xent_jax.train`
reports for it: bit for bit with SGD (up to ``directions.UNROLL_SAMPLES`` samples, whose sums
are written out in a fixed order; beyond, a reduction in XLA's order); with momentum, Adam and
the book rule XLA's vector and scalar code may differ in the last bit, which can move an epoch
by one.

How the work is laid out, and why:

- devices: a call is sharded over every local JAX device (``jax.shard_map`` on a 1-D mesh);
  on a CPU, one device per core is what keeps all cores busy (XLA runs one device's elementwise
  loop on one thread), which the entry points arrange before JAX starts
  (:func:`xent_jax._devices.use_all_cpu_cores`);
- blocks: inside a device, ``jax.lax.map`` walks the share in blocks of at most ``BLOCK``
  configurations, each one a vmapped scan over the epochs, so a block's state stays in cache;
  the state's counters (the epoch, the optimizer's step count) enter a block as scalars;
- segments: the epochs go in compiled calls of at most ``SEGMENT_CONFIG_EPOCHS``
  sample-epochs (config-epochs × N), the state left on the devices between them, so memory does
  not depend on the epochs and a stop request (Ctrl-C) is seen between two calls; the first
  call also starts the run and the last also finishes it, so a block's state stays in cache
  from θ_0 to the outputs when the run is one call;
- inputs: the five inputs (w0, b0, x, y, η) are named; those in ``varying`` are one value per
  configuration (sharded, mapped, vmapped), the others one value for all (replicated, closed
  over), which keeps a grid sweep's per-epoch work free of three constant arrays.

Every configuration is computed independently and by the same compiled block, so the numbers
do not depend on the number of devices, on the chunk they fall in, or on a resume.
"""

import functools
import time
from collections.abc import Callable
from typing import NamedTuple, overload

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from xent_jax import _devices as devices
from xent_jax.core import _loop as loop
from xent_jax.core._directions import step_direction
from xent_jax.core._registry import as_loss, as_optimizer
from xent_jax.sweep._result import FIELDS, SweepMetrics

BLOCK = 8192  # configurations per vmapped block: its state (~10 arrays) stays in L2
UNROLL = 4  # epochs per scan iteration (measured: 4 beats 2, 8 and 16; 16 halves the CE rate)


def unroll_for(samples: int) -> int:
    """Epochs per scan iteration for N samples: ``UNROLL`` up to 16 samples, 1 beyond (each
    epoch's body is N times larger). Measured on 2 cores, 1024² starts × 500 epochs, in-process
    alternation, median of 6-8 rounds: 4 against the 1 (N = 16) and 2 (N = 4) used before gave
    1.01-1.11; against 4, 2 gave 0.94-0.99 and 8 gave 0.98-1.01 at N = 16, 8 gave 1.08 for the
    N = 4 cross-entropy; larger N were not measured."""
    return UNROLL if samples <= 16 else 1


# Sample-epochs per compiled call (config-epochs × N): under a second on a CPU, so a stop
# request is seen soon and memory does not grow with the epochs; each call costs a little
# beyond its epochs (measured: 1024² × 500 one-sample epochs in two calls of 2²⁸ ran 8 % slower
# than in one; with several samples, 1024² starts × 500 epochs in calls of 2³⁰ ran 1.03
# (cross-entropy, N = 16) and 1.13 (quadratic, N = 4) times the rate of calls of 2²⁹, but at
# the one-sample Adam rate, 0.82 G config-epochs/s, a call of 2³⁰ would take 1.3 s). The first
# call also starts the run and the last one also finishes it, each behind an optimization
# barrier, so the numbers do not depend on how the epochs are cut (without the barriers, one
# fused program differed from the segmented one in the last bit of a few momentum and Adam
# cells; tests/test_limits.py compares a run cut in segments with one call).
SEGMENT_CONFIG_EPOCHS = 2**29

# A GPU or TPU runs a block's configurations in parallel across thousands of threads, and each
# block is one step of a sequential ``lax.map``: it wants one block per call, and calls long
# enough to hide their launch and transfers. Sizes chosen, not yet measured (benchmarks/gpu.sh
# measures them): blocks of up to 2²⁰ configurations (a 4096² grid in 16 steps per device) and
# 2³³ sample-epochs per call (about 0.1 s at 100 G sample-epochs/s; 0.9 s at 10 G/s).
ACCELERATOR_BLOCK = 2**20
ACCELERATOR_SEGMENT_CONFIG_EPOCHS = 2**33


class Inputs(NamedTuple):
    """One sweep call's inputs: 1-D arrays for the varying names, scalars for the others."""

    w0: np.ndarray | float
    b0: np.ndarray | float
    x: np.ndarray | float
    y: np.ndarray | float
    learning_rate: np.ndarray | float


GRID = ("w0", "b0")  # what varies in a grid sweep
EVERYTHING = Inputs._fields


def arrays_per_config(varying: tuple[str, ...]) -> int:
    """Host and device arrays of one value per configuration: the varying inputs and the four
    outputs, once on the device and once on the host."""
    return 2 * (len(varying) + len(FIELDS))


def segment_epochs(n: int, epochs: int, samples: int = 1, platform: str = "cpu") -> int:
    """Epochs per compiled call for calls of ``n`` configurations on N = ``samples``: all of
    them when n × epochs × N is within ``SEGMENT_CONFIG_EPOCHS`` (on a CPU;
    ``ACCELERATOR_SEGMENT_CONFIG_EPOCHS`` elsewhere), else a multiple of ``UNROLL`` that is (an
    epoch on N samples is about N times the work of one)."""
    per_call = SEGMENT_CONFIG_EPOCHS if platform == "cpu" else ACCELERATOR_SEGMENT_CONFIG_EPOCHS
    budget = per_call // samples
    if n * epochs <= budget:
        return epochs
    return max(UNROLL, budget // n // UNROLL * UNROLL)


DATA_BLOCK = 16384  # the largest block with several samples (see block_size)


def block_size(n: int, samples: int = 1, devices: int = 1, platform: str = "cpu") -> int:
    """The block for calls of ``n`` configurations over ``devices``: each device's share cut into
    equal blocks of at most ``BLOCK`` (``DATA_BLOCK`` with several samples; on a GPU or TPU
    ``ACCELERATOR_BLOCK``), each rounded up to a multiple of 128, so a call pads fewer than 128
    configurations per block.

    ``DATA_BLOCK``: measured on 2 cores with 512-bit vector code, 1024² starts × 500 epochs, the
    block sizes alternating in one process, median over 6 rounds of the rate against 4096:
    16384 gave 1.07 (cross-entropy) and 1.16 (quadratic) at N = 16, 0.99 and 1.00 at N = 4
    (a first run: 1.06, 1.08, 0.95, 1.12); 32768 and 65536 were not consistently better at
    N = 16 (1.02-1.13) and 4-8 % slower for the cross-entropy at N = 4. Since the sample sums
    became one kernel (``directions._means``), 8192 and 32768 gave 0.99-1.07 at N = 16 (5 rounds):
    within the noise, so 16384 stayed.
    """
    largest = BLOCK if samples == 1 else DATA_BLOCK
    if platform != "cpu":
        largest = ACCELERATOR_BLOCK
    share = -(-n // devices)
    blocks = -(-share // largest)
    each = -(-share // blocks)
    return -(-each // 128) * 128


def _outputs(direction, state, x, y):
    final = loop.finish(direction, state, x, y)
    m = final.metrics
    # with N samples (x, y of shape (N,)): the mean loss and the mean output (1/N) Σ a_i
    output = final.output if final.output.ndim == 0 else final.output.mean()
    return m.takeoff_epoch, m.half_error_epoch, final.loss, output


def _state_axes(state: loop.State) -> loop.State:
    """The vmap axes of a block's state: None for the counters, 0 for the rest.

    The epoch and the optimizer's step count (its integer leaves, Adam's ``count``) are the same
    for every configuration, so a block takes each as one scalar: batched, the epoch counter
    cost two extra loop kernels per scan iteration (10-15 % of the one-sample rate) and Adam's
    count made its bias correction 1 − β^t a power per start (Adam ran at 1/5 of its rate).
    """
    counters = jax.tree.map(
        lambda a: None if np.issubdtype(a.dtype, np.integer) else 0, state.opt_state
    )
    # a State-shaped prefix of the state's pytree, whose leaves are vmap axes, not arrays
    return loop.State._make((None, 0, counters, 0, 0, 0, 0))


def _calls(segments: list[int]) -> list[tuple[bool, bool, int]]:
    """The compiled calls of a run: (with the start, with the finish, epochs) per segment."""
    last = len(segments) - 1
    return [(k == 0, k == last, epochs) for k, epochs in enumerate(segments)]


@functools.lru_cache(maxsize=32)
def _segment_programs(loss, rule, optimizer, calls, block, varying, devices):
    """A run in compiled calls, the state carried between them on the devices: for each
    distinct (first, last, epochs) of ``calls``, ``program([state,] *inputs)`` that starts the
    run at θ_0 when ``first`` (else takes the state), carries it over ``epochs``, and returns
    the outputs when ``last`` (else the state).

    Inside a call, a block's state stays in cache from its start to its finish (a separate
    start and finish program each wrote or read the whole state, 7-13 % of a one-sample run of
    1024² starts × 500 epochs); an optimization barrier on each side of the epochs keeps XLA
    from compiling across them, so a run computes the same bits however it is cut.
    """
    direction = step_direction(loss, rule)
    in_axes = tuple(0 if n in varying else None for n in EVERYTHING)

    def segment_one(first, last, epochs):
        def run(*args):
            w0, b0, x, y, learning_rate = args if first else args[1:]
            opt = optimizer(learning_rate)
            if first:
                state = loop.start(direction, opt, w0, b0, x, y)[0]
                state = jax.lax.optimization_barrier(state)
            else:
                state = args[0]
            unroll = unroll_for(int(np.size(x)))
            state, _ = loop.advance(direction, opt, state, x, y, epochs, unroll=unroll)
            if last:
                return _outputs(direction, jax.lax.optimization_barrier(state), x, y)
            return state

        return run

    def blockwise(fn, with_state):
        def share(*args):
            state, inputs = (args[0], args[1:]) if with_state else (None, args)
            axes: tuple[loop.State, ...] = (_state_axes(args[0]),) if with_state else ()
            per_block = jax.vmap(fn, in_axes=axes + in_axes)
            named = dict(zip(EVERYTHING, inputs, strict=True))
            mapped = {n: named[n].reshape(-1, block) for n in varying}
            blocks = jax.tree.map(lambda a: a.reshape(-1, block, *a.shape[1:]), state)

            def run_block(item):
                block_state, arrays = item
                merged = {**named, **arrays}
                if with_state:  # a counter enters as its first value: all are equal
                    block_state = jax.tree.map(
                        lambda axis, a: a if axis == 0 else a[0],
                        axes[0],
                        block_state,
                        is_leaf=lambda axis: axis is None,
                    )
                first = (block_state,) if with_state else ()
                return per_block(*first, *(merged[n] for n in EVERYTHING))

            out = jax.lax.map(run_block, (blocks, mapped))
            return jax.tree.map(lambda o: o.reshape(-1, *o.shape[2:]), out)

        return share

    mesh = Mesh(np.asarray(devices), ("grid",))
    specs = tuple(P("grid") if n in varying else P() for n in EVERYTHING)

    def sharded(call):
        first = call[0]
        in_specs = (() if first else (P("grid"),)) + specs
        return jax.jit(
            jax.shard_map(
                blockwise(segment_one(*call), not first),
                mesh=mesh,
                in_specs=in_specs,
                out_specs=P("grid"),
                check_vma=False,
            )
        )

    programs = {call: sharded(call) for call in calls}
    return programs, tuple(NamedSharding(mesh, s) for s in specs)


class Runner:
    """Runs calls of up to ``n`` configurations of one loss with one set of compiled programs.

    Args:
      loss, rule, optimizer, epochs, dtype: the loss (a name or :class:`~xent_jax.core.Loss`),
        the rule, the optimizer (a name or :class:`~xent_jax.core.Optimizer`), the epochs and
        the dtype of the runs.
      n: configurations per call (padded to a whole number of blocks on every device).
      varying: the input names given per configuration; the others are scalars.
      samples: N; with N > 1, x and y are (N,) arrays common to all configurations.
    """

    def __init__(self, loss, rule, optimizer, epochs, dtype, n, varying=GRID, samples=1):
        loss, optimizer = as_loss(loss), as_optimizer(optimizer)
        self.dtype = np.dtype(dtype)
        self.varying = tuple(varying)
        local = tuple(jax.local_devices())
        platform = local[0].platform
        self.block = block_size(n, samples, len(local), platform)
        unit = len(local) * self.block
        self.padded = -(-n // unit) * unit
        segment = segment_epochs(self.padded, epochs, samples, platform)
        self.segments = [segment] * (epochs // segment)
        if epochs % segment:
            self.segments.append(epochs % segment)
        self.calls = _calls(self.segments)
        programs, self.shardings = _segment_programs(
            loss, rule, optimizer, frozenset(self.calls), self.block, self.varying, local
        )
        common = {"x": (samples,), "y": (samples,)} if samples > 1 else {}
        shapes = [
            jax.ShapeDtypeStruct(
                (self.padded,) if name in self.varying else common.get(name, ()),
                self.dtype,
                sharding=s,
            )
            for name, s in zip(EVERYTHING, self.shardings, strict=True)
        ]
        # compiled once, outside the timed calls; the state's shape is what the first call
        # returns when it is not also the last
        state = None if len(self.calls) == 1 else jax.eval_shape(programs[self.calls[0]], *shapes)
        options = devices.compiler_options(platform)
        self.programs = {
            call: programs[call]
            .lower(*(() if call[0] else (state,)), *shapes)
            .compile(compiler_options=options)
            for call in programs
        }

    @overload
    def __call__(self, inputs: Inputs) -> tuple[SweepMetrics, float]: ...
    @overload
    def __call__(
        self, inputs: Inputs, should_stop: Callable[[], bool] | None
    ) -> tuple[SweepMetrics, float] | None: ...
    def __call__(
        self, inputs: Inputs, should_stop: Callable[[], bool] | None = None
    ) -> tuple[SweepMetrics, float] | None:
        """Run the configurations of ``inputs``; returns the metrics and the compute seconds,
        or None when ``should_stop()`` turned true between two epoch segments."""
        count = None
        values = []
        for name, v in zip(EVERYTHING, inputs, strict=True):
            v = np.asarray(v, self.dtype)
            if name in self.varying:
                count = v.size
                v = np.pad(v, (0, self.padded - v.size), mode="edge")
            values.append(v)
        start = time.perf_counter()
        args = [jax.device_put(v, s) for v, s in zip(values, self.shardings, strict=True)]
        state = None  # after the last call: the outputs
        for call in self.calls:
            if should_stop is not None and should_stop():
                return None
            first = call[0]
            state = self.programs[call](*args) if first else self.programs[call](state, *args)
        out = jax.device_get(state)
        seconds = time.perf_counter() - start
        return SweepMetrics(*(np.asarray(o)[:count] for o in out)), seconds
