"""``xent-jax sweep``: the plateau atlas, written to a directory, resumable."""

import argparse
import json
import os
import shlex
import sys

from xent_jax.cli import _help, _interrupt
from xent_jax.cli.core import add_run_options
from xent_jax.core import _seed as seed
from xent_jax.core._registry import LOSSES
from xent_jax.core._settings import DATA_LEARNING_RATE, DEFAULT_LOSSES
from xent_jax.errors import InputError
from xent_jax.sweep._spec import DEFAULT_RESOLUTION, MAX_RESOLUTION


def register(commands: argparse._SubParsersAction) -> None:
    sweep = commands.add_parser(
        "sweep",
        help="train from every start of a (w0, b0) grid: the plateau atlas",
        description=(
            "Train one sigmoid neuron from every point of a grid of initial (w0, b0) and map "
            "its takeoff and half-error epochs. Writes DIR/sweep.zarr, DIR/sweep.npz, "
            "DIR/sweep.json and DIR/atlas.png; an interrupted sweep continues with --resume."
        ),
    )
    losses = ",".join(DEFAULT_LOSSES)
    sweep.add_argument(
        "--loss",
        default=losses,
        metavar="LOSS[,LOSS]",
        help="the losses, comma-separated (a sweep compares several; train takes one), from "
        + ", ".join(LOSSES),
    )
    lo_hi = dict(nargs=2, type=float, default=list(seed.GRID), metavar=("LO", "HI"))
    sweep.add_argument("--w-range", **lo_hi, help="initial weights w0")
    sweep.add_argument("--b-range", **lo_hi, help="initial biases b0")
    sweep.add_argument(
        "--resolution",
        type=int,
        default=DEFAULT_RESOLUTION,
        metavar="R",
        help=f"R × R starts, 2 to {MAX_RESOLUTION}",
    )
    sweep.add_argument(
        "--learning-rate",
        action="append",
        default=[],
        metavar="ETA|LOSS=ETA",
        help="η for every loss, or LOSS=ETA (repeatable); "
        + _help.learning_rates(DATA_LEARNING_RATE),
    )
    add_run_options(sweep)
    sweep.add_argument("--out", required=True, metavar="DIR", help="output directory")
    mode = sweep.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue the sweep in DIR")
    mode.add_argument("--force", action="store_true", help="replace the sweep in DIR")
    sweep.add_argument("--quiet", action="store_true", help="no plan, progress bar or summary")
    sweep.add_argument("--json", action="store_true", help="print sweep.json on stdout")
    sweep.set_defaults(run=run_sweep, parser=sweep)


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


def build_spec(args: argparse.Namespace):
    """The sweep's settings from the command line; every bad value fails here, before anything
    is created."""
    from xent_jax.sweep._spec import SweepSpec

    return SweepSpec.build(
        args.loss,
        w_range=tuple(args.w_range),
        b_range=tuple(args.b_range),
        resolution=args.resolution,
        epochs=args.epochs,
        learning_rate=parse_learning_rates(args.learning_rate),
        x=args.x,
        y=args.y,
        data=args.data,
        rule=args.rule,
        optimizer=args.optimizer,
        dtype=args.dtype,
    )


def _figure(result) -> bytes:
    from xent_jax import _io
    from xent_jax.plots import atlas

    return _io.png_bytes(atlas.atlas_figure(result))


def resume_command(args: argparse.Namespace) -> str:
    """The command that continues this sweep: every option the user gave (as parsed, so
    abbreviations and ``=`` forms are spelled out), without ``--force``, with ``--resume``."""
    words = ["xent-jax", "sweep"]
    for action in args.parser._actions:
        if not action.option_strings or action.dest in ("help", "force", "resume"):
            continue
        value, option = getattr(args, action.dest), action.option_strings[0]
        if value == action.default and not action.required:
            continue
        if isinstance(action, argparse._StoreTrueAction):
            words.append(option)
        elif isinstance(action, argparse._AppendAction):
            for item in value:
                words += [option, item]
        elif isinstance(value, list):
            words += [option, *(repr(v) for v in value)]
        else:
            words += [option, repr(value) if isinstance(value, float) else str(value)]
    return shlex.join([*words, "--resume"])


def interrupted_line(args: argparse.Namespace, kept: int | None) -> str:
    """What an interrupted sweep says: what it kept, and how to continue."""
    what = "finished chunks" if kept is None else f"{kept} finished chunks"
    where = os.path.join(args.out, STORE)
    return (
        f"xent-jax: {_interrupt.stop_word()}: {what} kept in {where}; continue with: "
        f"{resume_command(args)}"
    )


STORE = "sweep.zarr"


def run_sweep(args: argparse.Namespace) -> int:
    from xent_jax._devices import use_all_cpu_cores

    spec = build_spec(args)
    use_all_cpu_cores()  # before JAX's first computation
    from xent_jax.sweep import _directory as directory
    from xent_jax.sweep import _runner as runner

    def show_plan(size) -> None:
        if not args.quiet:
            print(format_plan(spec, size, _calibrated_rate(spec, size)), file=sys.stderr)

    # Kept chunks as the runner reports them; a fresh sweep keeps none until its first chunk.
    kept: list[int | None] = [None if args.resume else 0]

    def chunk_done(chunk, done: int, total: int) -> None:
        kept[0] = done
        if bar is not None:
            bar.update(chunk, done, total)

    # Ctrl-C while a compiled call runs on: the watcher's last line says the same.
    _interrupt.set_farewell(lambda: interrupted_line(args, kept[0]))
    bar = _progress_bar() if not args.quiet and sys.stderr.isatty() else None
    try:
        summary = runner.write_sweep(
            args.out,
            spec,
            resume=args.resume,
            force=args.force,
            figure=_figure,
            on_plan=show_plan,
            on_chunk=chunk_done,
            notify=lambda line: print(f"xent-jax: {line}", file=sys.stderr),
            should_stop=_interrupt.interrupt_requested,
        )
    except directory.OutputInTheWay as error:
        raise InputError(f"{error}; {advice(error.remedy)}") from None
    except directory.SweepInterrupted as stopped:
        if bar is not None:
            bar.close()
        print(interrupted_line(args, stopped.kept), file=sys.stderr)
        return _interrupt.stop_status()
    finally:
        _interrupt.set_farewell(None)
    if bar is not None:
        bar.close()
    if args.json:
        print(json.dumps(summary))
    elif not args.quiet:
        print(format_summary(summary, args.out))
    return 0


def advice(remedy: str) -> str:
    """What would let a refused sweep go on (the library's remedy, in the options' words)."""
    from xent_jax.sweep import _directory as directory

    return {
        directory.RESUME_OR_FORCE: "use --resume to continue it or --force to replace it",
        directory.FORCE: "it cannot be continued; use --force to replace it",
        directory.BESIDE: "use --force to write the sweep beside its files, or choose "
        "another --out",
        directory.SAME_SETTINGS: "give its settings to continue it, or --force to replace it",
        directory.SAME_LAYOUT: (
            "continue it on that device layout (on a CPU: XLA_FLAGS="
            "--xla_force_host_platform_device_count=N), or use --force to replace it"
        ),
        directory.WAIT: "wait until it has finished, or stop it",
        directory.MOVE: "move it out of the way, or choose another --out",
    }.get(remedy, "use --resume to continue it or --force to replace it")


CALIBRATE_ABOVE = 2**31  # config-epochs: a smaller sweep takes seconds, not worth timing


def _calibrated_rate(spec, size) -> float | None:
    """Config-epochs per second, timed on this machine, for a sweep worth timing."""
    if size.config_epochs < CALIBRATE_ABOVE:
        return None
    from xent_jax.sweep import _plan as plan

    return plan.calibrate(spec)


def format_plan(spec, p, rate: float | None) -> str:
    """One line: what the sweep will do, write and (when timed) take."""
    from xent_jax.sweep._plan import size_text

    line = (
        f"xent-jax: sweep plan: {p.starts} starts × {len(spec.losses)} losses × {spec.epochs} "
        f"epochs = {p.config_epochs:.3g} config-epochs, about {size_text(p.output_bytes)} "
        "of output"
    )
    if rate is None:
        return line + ", a few seconds of compute"
    return line + f", about {_duration(p.config_epochs / rate)} at {rate:.3g} config-epochs/s"


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


class _Bar:
    """A tqdm bar over chunks, created at the first finished chunk (when the total is known)."""

    def __init__(self, tqdm):
        self.tqdm, self.bar = tqdm, None

    def update(self, chunk, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = self.tqdm(
                total=total, initial=done - 1, unit="chunk", file=sys.stderr, desc="sweep"
            )
        self.bar.update()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _progress_bar() -> "_Bar | None":
    try:
        from tqdm import tqdm
    except ImportError:  # the optional extra `progress` is not installed
        return None
    return _Bar(tqdm)


def _median(stats: dict, epochs: int) -> str:
    return (
        f"> {epochs} (over half censored)"
        if stats["median_is_lower_bound"]
        else f"{stats['median']:g}"
    )


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
            f"{100 * half['censored_fraction']:.1f}%, median half-error epoch over all starts "
            f"{_median(half, summary['epochs'])}"
        )
    lines.append(f"wrote {os.path.join(out, STORE)}, sweep.npz, sweep.json, atlas.png")
    return "\n".join(lines)
