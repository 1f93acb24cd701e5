"""`trainer.precision=auto` picks the policy from the hardware (the run tests check what is computed)."""

from pathlib import Path

import pytest

from inductive.training.precision import choose, cpu_bf16_flags, cpu_name

pytestmark = pytest.mark.tensorflow


def test_auto_precision_follows_the_hardware():
    assert choose("auto", [], ["amx_bf16"])[0] == "mixed_bfloat16"
    assert choose("auto", [], [])[0] == "float32"
    assert choose("auto", [(8, 0)], [])[0] == "mixed_bfloat16"
    assert choose("auto", [(7, 5)], ["amx_bf16"])[0] == "mixed_float16"
    assert choose("auto", [(6, 1)], [])[0] == "float32"
    assert choose("float32", [(9, 0)], ["amx_bf16"]) == ("float32", "trainer.precision")


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor : 0\nflags : fpu sse2 avx512f avx512_bf16 amx_tile\n")
    assert cpu_bf16_flags(info) == ["avx512_bf16"]
    assert cpu_bf16_flags(tmp_path / "missing") == []


def test_the_cpu_a_run_records_names_the_model_and_its_native_bfloat16(tmp_path: Path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse2 avx2\n")
    assert cpu_name(info) == "AMD EPYC 7B13 (no native bfloat16)"
    info.write_text("model name : Intel(R) Xeon(R) Processor\nflags : avx512f avx512_bf16 amx_bf16\n")
    assert cpu_name(info) == "Intel(R) Xeon(R) Processor (amx_bf16, avx512_bf16)"
    assert cpu_name(tmp_path / "missing") is None


def test_the_model_prepare_builds_computes_in_the_asked_precision(composed):
    from inductive.training.train import prepare

    for precision, dtype in (("mixed_bfloat16", "bfloat16"), ("mixed_float16", "float16"), ("float32", "float32")):
        model, why = prepare(composed("model=conv_flatten", f"trainer.precision={precision}"))
        conv = next(layer for layer in model.layers if layer.weights)
        assert conv.compute_dtype == dtype and conv.variable_dtype == "float32" and why == "trainer.precision"
        assert model.layers[-1].compute_dtype == "float32"  # the classifier's softmax stays float32
