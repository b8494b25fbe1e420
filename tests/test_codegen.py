"""Code generation per machine: 512-bit vectors only where the CPU has AVX-512, CPU options only
for CPU programs, the choice recorded in sweep.json, and the same bits with either width."""

import json
from pathlib import Path

import numpy as np
import pytest

import xent_jax as xj
from xent_jax import _devices as devices
from xent_jax import sweep as S
from xent_jax.cli import main
from xent_jax.errors import InputError
from xent_jax.sweep import _compute as compute

AVX2 = frozenset("sse4_2 avx fma avx2 bmi2".split())
AVX512 = AVX2 | {"avx512f", "avx512dq", "avx512bw", "avx512vl"}


@pytest.fixture
def cpu(monkeypatch):
    """Pretend the CPU has the given /proc/cpuinfo flags; no override, no ISA cap."""
    monkeypatch.delenv(devices.VECTOR_WIDTH_VARIABLE, raising=False)
    monkeypatch.delenv("XLA_FLAGS", raising=False)

    def pretend(flags):
        monkeypatch.setattr(devices, "_cpu_flags", lambda: flags)

    return pretend


@pytest.mark.parametrize(
    ("flags", "xla_flags", "width"),
    [
        (AVX512, "", 512),
        (AVX2, "", 256),
        (frozenset(), "", 256),  # not Linux, or no flags line: XLA's default
        (AVX512, "--xla_cpu_max_isa=AVX2", 256),  # an AVX2 machine emulated on an AVX-512 one
        (AVX512, "--xla_force_host_platform_device_count=2 --xla_cpu_max_isa=avx512", 512),
        (AVX2, "--xla_cpu_max_isa=AVX512", 256),  # a cap grants nothing the CPU lacks
    ],
)
def test_wide_vectors_only_where_the_cpu_has_avx512(cpu, monkeypatch, flags, xla_flags, width):
    cpu(flags)
    monkeypatch.setenv("XLA_FLAGS", xla_flags)
    assert devices.cpu_vector_width() == width
    assert devices.compiler_options("cpu") == {"xla_cpu_prefer_vector_width": width}
    assert devices.codegen("cpu") == {"cpu_vector_width": width}


@pytest.mark.parametrize("width", [256, 512])
def test_the_variable_overrides_the_detection(cpu, monkeypatch, width):
    for flags in (AVX2, AVX512):
        cpu(flags)
        monkeypatch.setenv(devices.VECTOR_WIDTH_VARIABLE, str(width))
        assert devices.cpu_vector_width() == width


@pytest.mark.parametrize("value", ["128", "wide", "512.0", "1024"])
def test_a_bad_width_is_refused_naming_it(monkeypatch, value):
    monkeypatch.setenv(devices.VECTOR_WIDTH_VARIABLE, value)
    with pytest.raises(InputError, match=f"{devices.VECTOR_WIDTH_VARIABLE}.*{value!r}"):
        devices.cpu_vector_width()


@pytest.mark.parametrize("platform", ["gpu", "cuda", "rocm", "tpu"])
def test_cpu_options_never_reach_other_platforms(cpu, platform):
    cpu(AVX512)
    assert devices.compiler_options(platform) == {}
    assert devices.codegen(platform) == {}


def test_the_flags_are_this_machines():
    """The detection reads what the kernel reports (an independent read of /proc/cpuinfo)."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        pytest.skip("no /proc/cpuinfo")
    text = cpuinfo.read_text()
    flags = [line for line in text.splitlines() if line.startswith("flags")]
    assert ("avx512f" in flags[0].split()) == ("avx512f" in devices._cpu_flags())


# --------------------------------------------------------------------------------------------
# The same bits with either width


def _with_width(monkeypatch, width, run):
    """``run()`` with XLA asked for ``width``-bit vectors; checks that every program compiled
    meanwhile was given that width (so the comparison below compares two compilations)."""
    seen = []
    choose = devices.compiler_options

    def spy(platform=None):
        options = choose(platform)
        seen.append(options.get("xla_cpu_prefer_vector_width"))
        return options

    monkeypatch.setenv(devices.VECTOR_WIDTH_VARIABLE, str(width))
    monkeypatch.setattr(devices, "compiler_options", spy)
    try:
        return run()
    finally:
        monkeypatch.setattr(devices, "compiler_options", choose)
        assert seen and set(seen) == {width}, seen


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_either_vector_width_computes_the_same_bits(monkeypatch, optimizer):
    settings = dict(resolution=(9, 7), epochs=90, optimizer=optimizer, data="1:0,-1:1,0.5:1,2:0")
    eta = {"sgd": 0.5, "momentum": 0.1, "adam": 0.05}[optimizer]

    def run():
        atlas = S.sweep(**settings)
        one = xj.train("ce", 2.0, 2.0, learning_rate=eta, epochs=120, optimizer=optimizer)
        return atlas, one

    (wide, wide_run), (narrow, narrow_run) = (_with_width(monkeypatch, w, run) for w in (512, 256))
    assert wide.provenance["codegen"] == {"cpu_vector_width": 512}
    assert narrow.provenance["codegen"] == {"cpu_vector_width": 256}
    for loss in wide.metrics:
        for a, b in zip(wide.metrics[loss], narrow.metrics[loss], strict=True):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(wide_run.trajectory, narrow_run.trajectory, strict=True):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------------------------
# The choice in sweep.json, and stores written before it was recorded

SMALL = ["--resolution", "12", "--epochs", "60", "--quiet"]


@pytest.mark.slow
def test_sweep_json_records_the_choice(tmp_path, monkeypatch):
    monkeypatch.setenv(devices.VECTOR_WIDTH_VARIABLE, "256")
    assert main(["sweep", *SMALL, "--out", str(tmp_path / "s")]) == 0
    recorded = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert recorded["codegen"] == {"cpu_vector_width": 256}
    assert S.load_sweep(tmp_path / "s").provenance["codegen"] == {"cpu_vector_width": 256}


def _unfinished(out, optimizer, monkeypatch, *, recorded=True):
    """A sweep of ``optimizer`` with 512-bit code stopped after its first chunk; without the
    recorded choice when ``recorded`` is false, as an older version wrote it."""
    monkeypatch.setattr(compute, "CHUNK_BYTES", 12 * 4 * 12 * 5)  # chunks of 5, 5, 2 rows
    monkeypatch.setenv(devices.VECTOR_WIDTH_VARIABLE, "512")
    stored = []
    with pytest.raises(S.SweepInterrupted):
        S.write_sweep(
            out,
            resolution=12,
            epochs=60,
            optimizer=optimizer,
            should_stop=lambda: len(stored) >= 1,
            on_chunk=lambda chunk, *_: stored.append(chunk),
        )
    if not recorded:
        meta = out / "sweep.zarr" / "zarr.json"
        value = json.loads(meta.read_text())
        del value["attributes"]["codegen"]
        meta.write_text(json.dumps(value))


@pytest.mark.slow
@pytest.mark.parametrize("recorded", [True, False])
def test_sgd_resumes_with_the_other_width_to_the_same_bits(tmp_path, monkeypatch, recorded):
    _unfinished(tmp_path / "s", "sgd", monkeypatch, recorded=recorded)
    monkeypatch.setenv(devices.VECTOR_WIDTH_VARIABLE, "256")
    argv = ["sweep", *SMALL, "--out", str(tmp_path / "s"), "--resume"]
    assert main(argv) == 0
    expected = S.sweep(resolution=12, epochs=60).arrays()
    with np.load(tmp_path / "s" / "sweep.npz") as f:
        for key, value in expected.items():
            np.testing.assert_array_equal(f[key], value)
    recorded_json = json.loads((tmp_path / "s" / "sweep.json").read_text())
    # what the store was started with, None when an older version started it
    assert recorded_json["codegen"] == ({"cpu_vector_width": 512} if recorded else None)


@pytest.mark.slow
@pytest.mark.standard_promotion
@pytest.mark.parametrize("recorded", [True, False])
def test_adam_resumes_only_with_the_width_that_started_it(tmp_path, monkeypatch, capsys, recorded):
    out = tmp_path / "s"
    _unfinished(out, "adam", monkeypatch, recorded=recorded)
    argv = ["sweep", *SMALL, "--optimizer", "adam", "--out", str(out), "--resume"]
    monkeypatch.setenv(devices.VECTOR_WIDTH_VARIABLE, "256")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "'cpu_vector_width': 512" in err and f"{devices.VECTOR_WIDTH_VARIABLE}=512" in err
    assert not (out / "sweep.json").exists()
    monkeypatch.setenv(devices.VECTOR_WIDTH_VARIABLE, "512")
    assert main(argv) == 0


# --------------------------------------------------------------------------------------------
# Work sizes per platform: a GPU gets far larger blocks, calls and chunks


@pytest.mark.parametrize("samples", [1, 16])
def test_an_accelerator_runs_a_large_grid_in_few_large_blocks(samples):
    from xent_jax.sweep import _kernel as kernel

    n = 4096**2
    cpu, gpu = (kernel.block_size(n, samples, 1, p) for p in ("cpu", "gpu"))
    assert cpu <= max(kernel.BLOCK, kernel.DATA_BLOCK) < gpu <= kernel.ACCELERATOR_BLOCK
    assert gpu % 128 == 0 and -(-n // gpu) == -(-n // kernel.ACCELERATOR_BLOCK)
    assert kernel.block_size(1000, samples, 1, "gpu") == 1024  # a small grid: one block


def test_an_accelerator_runs_longer_calls():
    from xent_jax.sweep import _kernel as kernel

    n, epochs = 4096**2, 1000
    cpu, gpu = (kernel.segment_epochs(n, epochs, 1, p) for p in ("cpu", "tpu"))
    assert (
        n * cpu
        <= kernel.SEGMENT_CONFIG_EPOCHS
        < n * gpu
        <= kernel.ACCELERATOR_SEGMENT_CONFIG_EPOCHS
    )
    assert (
        kernel.segment_epochs(n, epochs, 16, "gpu") * 16 * n
        <= kernel.ACCELERATOR_SEGMENT_CONFIG_EPOCHS
    )


def test_an_accelerator_takes_a_4096_grid_in_one_chunk():
    assert compute.chunk_rows(4096, 4096, "float32", "gpu") == 4096
    rows = compute.chunk_rows(4096, 4096, "float32", "cpu")
    assert rows * 4096 * 48 <= compute.CHUNK_BYTES < (rows + 1) * 4096 * 48  # 12 arrays of 4 B
