"""``xent-jax sweep``: the plateau atlas, written to a directory, resumable."""

import argparse
import json
import os
import sys

from xent_jax._validate import DTYPES
from xent_jax.errors import InputError
from xent_jax.training import OPTIMIZERS, RULES

DEFAULT_RESOLUTION = 256


def register(commands: argparse._SubParsersAction) -> None:
    sweep = commands.add_parser(
        "sweep",
        help="train from every start of a (w0, b0) grid: the plateau atlas",
        description=(
            "Train one sigmoid neuron from every point of a grid of initial (w0, b0) and map "
            "its takeoff and half-error epochs. Writes DIR/sweep.npz, DIR/sweep.json and "
            "DIR/atlas.png; an interrupted sweep continues with --resume."
        ),
    )
    sweep.add_argument("--loss", default="mse,ce", help="comma-separated: mse, ce (default both)")
    lo_hi = dict(nargs=2, type=float, default=(-4.0, 4.0), metavar=("LO", "HI"))
    sweep.add_argument("--w-range", **lo_hi, help="initial weights w0 (default -4 4)")
    sweep.add_argument("--b-range", **lo_hi, help="initial biases b0 (default -4 4)")
    sweep.add_argument(
        "--resolution",
        type=int,
        default=DEFAULT_RESOLUTION,
        metavar="R",
        help=f"R × R starts ({DEFAULT_RESOLUTION})",
    )
    sweep.add_argument("--epochs", type=int, default=300, metavar="E", help="updates per run (300)")
    sweep.add_argument(
        "--learning-rate",
        action="append",
        default=[],
        metavar="ETA|LOSS=ETA",
        help="η for every loss, or LOSS=ETA (repeatable); default: mse=0.15, ce=0.005",
    )
    sweep.add_argument("--x", type=float, default=1.0, help="input (default 1)")
    sweep.add_argument("--y", type=float, default=0.0, help="target in [0, 1] (default 0)")
    sweep.add_argument("--rule", default="autodiff", help=" or ".join(RULES))
    sweep.add_argument("--optimizer", default="sgd", help=", ".join(OPTIMIZERS))
    sweep.add_argument("--dtype", default="float32", help=" or ".join(DTYPES))
    sweep.add_argument("--out", required=True, metavar="DIR", help="output directory")
    mode = sweep.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue the sweep in DIR")
    mode.add_argument("--force", action="store_true", help="replace the sweep in DIR")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument("--json", action="store_true", help="print sweep.json on stdout")
    sweep.set_defaults(run=run_sweep)


def parse_learning_rates(values: list[str]) -> float | dict[str, float] | None:
    """``["0.1"]`` -> 0.1; ``["mse=0.2", "ce=0.02"]`` -> {"mse": 0.2, "ce": 0.02}."""
    if not values:
        return None
    rates: dict[str, float] = {}
    plain = None
    for value in values:
        loss, sep, eta = value.partition("=")
        try:
            number = float(eta if sep else value)
        except ValueError:
            raise InputError(f"--learning-rate must be ETA or LOSS=ETA, got {value!r}") from None
        if not sep:
            if plain is not None or len(values) > 1:
                raise InputError("--learning-rate ETA (one value for all losses) may appear once")
            plain = number
        elif loss in rates:
            raise InputError(f"--learning-rate given twice for {loss!r}")
        else:
            rates[loss] = number
    return plain if plain is not None else rates


def use_all_cpu_cores() -> None:
    """One JAX CPU device per core, so the sharded sweep keeps every core busy.

    Must run before JAX's first computation; does nothing when the user set
    ``--xla_force_host_platform_device_count`` or the backend is already running (the
    sweep then uses the devices it finds).
    """
    import jax

    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        jax.config.update("jax_num_cpu_devices", cores)
    except RuntimeError:  # backend already initialised (e.g. main() called in-process)
        pass


def run_sweep(args: argparse.Namespace) -> int:
    from xent_jax import sweep

    params = dict(
        losses=args.loss,
        w_range=tuple(args.w_range),
        b_range=tuple(args.b_range),
        resolution=args.resolution,
        epochs=args.epochs,
        learning_rate=parse_learning_rates(args.learning_rate),
        x=args.x,
        y=args.y,
        rule=args.rule,
        optimizer=args.optimizer,
        dtype=args.dtype,
    )
    sweep.sweep_config(**params)  # every bad value fails here, before JAX starts
    use_all_cpu_cores()
    progress = not args.quiet and sys.stderr.isatty()
    try:
        summary = sweep.write_sweep(
            args.out, resume=args.resume, force=args.force, progress=progress, **params
        )
    except KeyboardInterrupt:
        kept = len(_chunk_files(args.out))
        print(
            f"xent-jax: interrupted: {kept} finished chunks kept in {args.out}; "
            "continue with --resume",
            file=sys.stderr,
        )
        return 130
    if args.json:
        print(json.dumps(summary))
    elif not args.quiet:
        print(format_summary(summary, args.out))
    return 0


def _chunk_files(out: str) -> list[str]:
    from xent_jax import sweep

    try:
        names = os.listdir(os.path.join(out, sweep.CHUNKS_DIR))
    except OSError:
        return []
    return [n for n in names if n.endswith(".npz")]


def format_summary(summary: dict, out: str) -> str:
    if "assembled_by_process" in summary:
        return f"this process's chunks are done; process 0 writes the results to {out}"
    lines = [
        f"{summary['runs']} runs × {summary['epochs']} epochs on {summary['device_count']} "
        f"{summary['platform']} device(s): {summary['compute_seconds']:.2f} s, "
        f"{summary['config_epochs_per_second']:.3g} config-epochs/s",
    ]
    for loss, stats in summary["statistics"].items():
        takeoff = stats["takeoff_epoch"]
        half = stats["half_error_epoch"]
        lines.append(
            f"  {loss:>3} η = {summary['learning_rates'][loss]:g}: takeoff censored "
            f"{100 * takeoff['censored_fraction']:.1f}%, half-error censored "
            f"{100 * half['censored_fraction']:.1f}%, median half-error epoch {half['median']}"
        )
    lines.append(f"wrote {out}/sweep.npz, sweep.json, atlas.png")
    return "\n".join(lines)
