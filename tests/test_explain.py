"""`python -m inductive.explain`: the lecture's numbers, checked by Keras; clear one-line errors."""

import dataclasses
import os
import re
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from inductive.lecture import explain  # noqa: E402
from inductive.arithmetic import ParamCount  # noqa: E402

pytestmark = pytest.mark.tensorflow  # Keras checks each answer


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = explain.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_lecture_conv_example(capsys):
    code, out, _ = run(capsys, "input=32x64x64x16", "filters=12", "kernel=3", "padding=same", "strides=1")
    assert code == 0
    assert "output shape      (32, 64, 64, 12)" in out
    assert "3*3*16*12 + 12 = 1740" in out
    assert "64*64*12 * 3*3*16 = 7077888" in out
    assert "64*64*16 * 64*64*12 + 64*64*12 = 3221274624" in out
    assert "Keras agrees" in out


@pytest.mark.parametrize(
    ("argv", "shape"),
    [
        (["layer=MaxPool2D", "pool=2"], "(32, 32, 32, 16)"),
        (["layer=AveragePooling2D", "pool=3", "strides=2", "padding=same"], "(32, 32, 32, 16)"),
        (["layer=GlobalAveragePooling2D"], "(32, 16)"),
        (["layer=globalmaxpool2d", "input=4x5x5x3"], "(4, 3)"),
        (["layer=Dense", "input=32x784", "units=10"], "(32, 10)"),
        (["kernel=3x5", "dilation=2", "use_bias=false", "input=2x16x16x3"], "(2, 12, 8, 12)"),
    ],
)
def test_other_layers(capsys, argv, shape):
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert f"output shape      {shape}" in out
    assert "Keras agrees" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["kernel=65"], "kernel 65 .* larger than the input size 64"),
        (["kernel=0"], "kernel=0 is invalid"),
        (["input=32x0x64x16"], "input='32x0x64x16' is invalid"),
        (["input=32x64x64"], "Conv2D needs BxHxWxC"),
        (["padding=full"], "padding must be one of"),
        (["filters=-3"], "filters=-3 is invalid"),
        (["use_bias=maybe"], "use_bias='maybe' is invalid: use true or false"),
        (["strides=2", "dilation=2"], "cannot be combined"),
        (["colour=red"], "unknown key; valid keys are: layer, input, filters"),
        (["filters"], "write key=value"),
        (["kernel=[3,"], "cannot read .* as key=value arguments"),
        (["layer=MaxPool2D", "filters=3"], "MaxPooling2D does not read it; its keys are: input, pool"),
        (["layer=Conv3D"], "layer='Conv3D' is invalid: use one of Conv2D"),
    ],
)
def test_bad_settings_give_one_line_and_status_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("explain: ")
    assert re.search(message, err), err


def test_disagreement_with_keras_is_reported(capsys, monkeypatch):
    real = explain.layer_arithmetic

    def off_by_one(name, config, shape):
        closed = real(name, config, shape)
        return dataclasses.replace(closed, params=ParamCount(closed.params.weights + 1, closed.params.biases))

    monkeypatch.setattr(explain, "layer_arithmetic", off_by_one)
    code, _, err = run(capsys, "input=1x8x8x3")
    assert code == 1
    assert "Keras disagrees" in err


@pytest.mark.slow
def test_command_line_error_has_no_traceback():
    result = subprocess.run([sys.executable, "-m", "inductive.explain", "kernel=99"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "explain: Conv2D on input (32, 64, 64, 16): kernel 99 (dilation 1, effective 99) is larger than the input "
        "size 64 with padding='valid'; use a smaller kernel or padding='same'"
    ]
