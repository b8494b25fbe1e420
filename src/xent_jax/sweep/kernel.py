"""The compiled sweep program: ``jit ∘ shard_map ∘ lax.map ∘ vmap`` of the one ``simulate``.

Every configuration runs the core's dynamics (:func:`xent_jax.training.simulate` with the step
direction and optax optimizer of a single run) and its online metrics, so a start of the sweep
reports what :func:`xent_jax.train` reports for it: bit for bit with SGD and momentum; with
Adam and the book rule XLA's vector and scalar code for sqrt, division and exp may differ in
the last bit, which can move an epoch by one.

How the work is laid out, and why:

- devices: a call is sharded over every local JAX device (``jax.shard_map`` on a 1-D mesh);
  on a CPU, one device per core is what keeps all cores busy (XLA runs one device's elementwise
  loop on one thread), which the entry points arrange before JAX starts
  (:func:`xent_jax.devices.use_all_cpu_cores`);
- blocks: inside a device, ``jax.lax.map`` walks the share in blocks of at most ``BLOCK``
  configurations, each one a vmapped scan over the epochs, so a block's state stays in cache;
- inputs: the five inputs (w0, b0, x, y, η) are named; those in ``varying`` are one value per
  configuration (sharded, mapped, vmapped), the others one value for all (replicated, closed
  over), which keeps a grid sweep's per-epoch work free of three constant arrays.

Every configuration is computed independently and by the same compiled block, so the numbers
do not depend on the number of devices, on the chunk they fall in, or on a resume.
"""

import functools
import time
from typing import NamedTuple

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from xent_jax import training
from xent_jax.sweep.result import FIELDS, SweepMetrics

BLOCK = 8192  # configurations per vmapped block: its state (~10 arrays) stays in L2
UNROLL = 4  # epochs per scan iteration (measured: 4 beats 2, 8 and 16; 16 halves the CE rate)


class Inputs(NamedTuple):
    """One sweep call's inputs: 1-D arrays for the varying names, scalars for the others."""

    w0: np.ndarray
    b0: np.ndarray
    x: np.ndarray
    y: np.ndarray
    learning_rate: np.ndarray


GRID = ("w0", "b0")  # what varies in a grid sweep
EVERYTHING = Inputs._fields


def arrays_per_config(varying: tuple[str, ...]) -> int:
    """Host and device arrays of one value per configuration: the varying inputs and the four
    outputs, once on the device and once on the host."""
    return 2 * (len(varying) + len(FIELDS))


def block_size(n: int) -> int:
    """The block for calls of ``n`` configurations: ``BLOCK``, or ``n`` rounded up to 128."""
    return min(BLOCK, -(-n // 128) * 128)


@functools.lru_cache(maxsize=32)
def _program(loss, rule, optimizer, epochs, block, varying, devices):
    """The jitted, sharded program and its input shardings."""
    direction = training.step_direction(loss, rule)

    def one(w0, b0, x, y, learning_rate):
        opt = training.make_optimizer(optimizer, learning_rate)
        final, _ = training.simulate(
            direction, opt, w0, b0, x, y, epochs, record=False, unroll=UNROLL
        )
        m = final.metrics
        # with N samples (x, y of shape (N,)): the mean loss and the mean output (1/N) Σ a_i
        output = final.output if final.output.ndim == 0 else final.output.mean()
        return m.takeoff_epoch, m.half_error_epoch, final.loss, output

    per_block = jax.vmap(one, in_axes=tuple(0 if n in varying else None for n in EVERYTHING))

    def share(*inputs):
        # This device's share, block by block: (n,) -> (n / block, block) -> lax.map; the
        # inputs given once for all are closed over.
        named = dict(zip(EVERYTHING, inputs, strict=True))
        mapped = {n: named[n].reshape(-1, block) for n in varying}

        def run_block(arrays):
            merged = {**named, **arrays}
            return per_block(*(merged[n] for n in EVERYTHING))

        out = jax.lax.map(run_block, mapped)
        return tuple(o.reshape(-1) for o in out)

    mesh = Mesh(np.asarray(devices), ("grid",))
    specs = tuple(P("grid") if n in varying else P() for n in EVERYTHING)
    # check_vma off: the metrics start as unbatched constants inside the scan carry.
    sharded = jax.shard_map(share, mesh=mesh, in_specs=specs, out_specs=P("grid"), check_vma=False)
    return jax.jit(sharded), tuple(NamedSharding(mesh, s) for s in specs)


class Runner:
    """Runs calls of up to ``n`` configurations of one loss with one compiled program.

    Args:
      loss, rule, optimizer, epochs, dtype: as in :class:`~xent_jax.sweep.spec.SweepSpec`.
      n: configurations per call (padded to a whole number of blocks on every device).
      varying: the input names given per configuration; the others are scalars.
      samples: N; with N > 1, x and y are (N,) arrays common to all configurations.
    """

    def __init__(self, loss, rule, optimizer, epochs, dtype, n, varying=GRID, samples=1):
        self.dtype = np.dtype(dtype)
        self.varying = tuple(varying)
        local = tuple(jax.local_devices())
        self.block = block_size(n)
        unit = len(local) * self.block
        self.padded = -(-n // unit) * unit
        fn, self.shardings = _program(
            loss, rule, optimizer, epochs, self.block, self.varying, local
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
        self.compiled = fn.lower(*shapes).compile()  # compiled once, outside the timed calls

    def __call__(self, inputs: Inputs) -> tuple[SweepMetrics, float]:
        """Run the configurations of ``inputs``; returns the metrics and the compute seconds."""
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
        out = jax.device_get(self.compiled(*args))
        seconds = time.perf_counter() - start
        return SweepMetrics(*(np.asarray(o)[:count] for o in out)), seconds
