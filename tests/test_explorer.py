"""`python -m inductive.explorer`: one offline page whose numbers are inductive.arithmetic's, checked in Chromium.

The browser tests drive Debian's `chromium` through `chromedriver` with selenium, in one session for
the module, and skip (saying why) where either is missing. The screenshot goes to $INDUCTIVE_ARTIFACTS
when set, else to pytest's tmp dir.
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path
from typing import Any

import pytest

from inductive.arguments import parse_overrides
from inductive.arithmetic import LayerSettingError, dense_equivalent_params, layer_arithmetic
from inductive.lecture import explorer
from inductive.lecture.explain import DEFAULTS as EXPLAIN_DEFAULTS
from inductive.lecture.explain import layer_config

pytestmark = pytest.mark.slow  # drives headless Chromium


PAGE_LAYERS = {"Conv2D": "Conv2D", "MaxPool2D": "MaxPooling2D", "AveragePooling2D": "AveragePooling2D",
               "GlobalAveragePooling2D": "GlobalAveragePooling2D", "Dense": "Dense"}
NUMBERS = ("shape", "params-formula", "params", "weights", "biases", "macs-formula", "macs", "batch-macs",
           "dense-formula", "dense", "ratio")
# A 1x1 PNG, for the figures tests.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5dd5e8b0000000049454e44ae426082")


# ---------------------------------------------------------------- the command, no browser

def write_page(tmp_path: Path, *argv: str) -> Path:
    out = tmp_path / "explorer.html"
    assert explorer.main([f"out={out}", *argv]) == 0
    return out


def test_page_is_one_self_contained_file(tmp_path, capsys):
    page = write_page(tmp_path).read_text(encoding="utf-8")
    assert "wrote" in capsys.readouterr().out
    assert len(page.encode()) < 100_000
    assert ("Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'\"") in page
    # nothing to fetch: no external script, style, image, font or link target
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(|@import""", page)
    assert "<script src" not in page and 'rel="stylesheet"' not in page
    assert 'id="figures"' not in page and explorer.MARKER not in page


def test_figures_are_inlined(tmp_path):
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / "shown.png").write_bytes(PNG)
    (folder / "extra.png").write_bytes(PNG)
    (folder / "README.md").write_text("# Answers\n\nSee **this** ![a figure](shown.png) and [the table](t.csv).\n\n"
                                      "![remote](https://example.com/x.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    (folder / "report.md").write_text("## Claims\n\n<script>alert(1)</script>\n")
    page = write_page(tmp_path, f"figures={folder}").read_text(encoding="utf-8")
    section = page[page.index('<section id="figures">'):]
    assert section.count("data:image/png;base64,") == 2  # the README's figure, then the one no document shows
    assert "<h1>Answers</h1>" in section and "<strong>this</strong>" in section and "<table>" in section
    assert "<h2>Claims</h2>" in section and "<script>alert" not in section  # raw HTML in Markdown is escaped
    assert '<a title="t.csv">the table</a>' in section  # a link to a file beside the Markdown: text only
    assert "[remote]" in section and "example.com" not in section  # a remote image: its alt text only
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", section)
    assert "Figures in" in section and "extra.png" in section


def test_real_answers_embed(tmp_path):
    folder = Path(__file__).resolve().parents[1] / "results" / "conv_questions"
    if not (folder / "README.md").is_file():
        pytest.skip(f"no {folder}/README.md: run python -m inductive.conv_questions")
    page = write_page(tmp_path, f"figures={folder}").read_text(encoding="utf-8")
    shown = re.findall(r"!\[[^\]]*\]\((\w+\.png)\)", (folder / "README.md").read_text(encoding="utf-8"))
    assert shown and page.count("data:image/png;base64,") == len(shown)  # every figure in place, no gallery left


def test_committed_page_is_up_to_date():
    committed = Path(__file__).resolve().parents[1] / "results" / "explorer.html"
    if not committed.is_file():
        pytest.skip(f"no {committed}")
    assert committed.read_text(encoding="utf-8") == explorer.build_page([]), \
        "results/explorer.html is stale: run python -m inductive.explorer"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["figures=no/such/folder"], "figures='no/such/folder' is invalid: no such folder"),
        (["colour=red"], "colour='red' is invalid: unknown key; valid keys are: out, figures"),
        (["out=[a,b]"], "out=['a', 'b'] is invalid: give an HTML file"),
        (["figures"], "argument='figures' is invalid: write key=value"),
    ],
)
def test_bad_arguments_are_one_line_errors(tmp_path, capsys, argv, message):
    assert explorer.main([f"out={tmp_path / 'x.html'}", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("explorer: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "x.html").exists()


def test_figures_folder_without_figures(tmp_path, capsys):
    assert explorer.main([f"out={tmp_path / 'x.html'}", f"figures={tmp_path}"]) == 2
    assert "holds no README.md or report.md and no PNG figure" in capsys.readouterr().err


# ---------------------------------------------------------------- the page in Chromium

@pytest.fixture(scope="module")
def page_path(tmp_path_factory) -> Path:
    return write_page(tmp_path_factory.mktemp("page"))


@pytest.fixture
def page(browser, page_path):
    """The browser with a fresh copy of the page loaded from disk, its animation paused; fails on page errors."""
    browser.get_log("browser")  # what earlier tests logged
    browser.get(page_path.as_uri())
    browser.execute_script("window.explorer.play(false)")
    yield browser
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, f"the page logged errors: {severe}"


def pretty(formula: str) -> str:
    """The page's way of writing a formula of inductive.arithmetic: `a*b * c*d` -> `(a × b) × (c × d)`."""
    terms = []
    for term in formula.split(" + "):
        groups = term.split(" * ")
        terms.append(" × ".join(f"({g})" if len(groups) > 1 and "*" in g else g for g in groups))
    return " + ".join(terms).replace("*", " × ")


def closed_form(settings: dict[str, Any]) -> tuple[str, dict[str, Any], tuple[int, ...]] | None:
    """The Keras class name, config and input shape the page's settings stand for; None if a field is no size."""
    layer = settings["layer"]
    fields = ["B", "H", "W", "C"] + (["F"] if layer in ("Conv2D", "Dense") else [])
    fields += ["kh", "kw", "sh", "sw"] if layer in ("Conv2D", "MaxPool2D", "AveragePooling2D") else []
    if not all(isinstance(settings[key], int) and settings[key] >= 1 for key in fields):
        return None
    s = settings
    if layer == "Conv2D":
        config = {"filters": s["F"], "kernel_size": (s["kh"], s["kw"]), "strides": (s["sh"], s["sw"]),
                  "padding": s["padding"], "use_bias": s["bias"]}
    elif layer == "Dense":
        return "Dense", {"units": s["F"], "use_bias": s["bias"]}, (s["H"] * s["W"] * s["C"],)
    elif layer == "GlobalAveragePooling2D":
        config = {}
    else:
        config = {"pool_size": (s["kh"], s["kw"]), "strides": (s["sh"], s["sw"]), "padding": s["padding"]}
    return PAGE_LAYERS[layer], config, (s["H"], s["W"], s["C"])


def random_settings(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Page settings, mostly valid; about one in six has a field that is no size or a kernel that cannot fit."""
    rng = random.Random(seed)

    def size(low: int, high: int, big: tuple[int, ...]) -> int:
        return rng.choice(big) if rng.random() < 0.08 else rng.randint(low, high)

    settings = []
    for _ in range(n):
        h = size(1, 40, (64, 224, 1000, 4096))
        w = h if rng.random() < 0.5 else size(1, 40, (64, 224, 1000))
        kh = rng.randint(1, 7) if rng.random() < 0.75 else rng.randint(max(1, h - 2), h + 2)  # near the edge
        kw = rng.choice([kh, kh, rng.randint(1, 9), rng.randint(max(1, w - 2), w + 2)])
        s = {"layer": rng.choice(list(PAGE_LAYERS)), "B": size(1, 64, (256, 100_000)), "H": h, "W": w,
             "C": size(1, 64, (512, 2048)), "F": size(1, 128, (1024, 100_000)),
             "kh": kh, "kw": kw,
             "sh": size(1, 4, (7, 50)), "sw": size(1, 4, (7, 50)),
             "padding": rng.choice(["valid", "same"]), "bias": rng.random() < 0.8}
        if rng.random() < 0.1:
            s[rng.choice(["B", "H", "W", "C", "F", "kh", "kw", "sh", "sw"])] = rng.choice([0, -3, "", "2.5", "1e3"])
        settings.append(s)
    return settings


def check_shown(settings: dict[str, Any], shown: dict[str, Any]) -> None:
    """What the page shows for `settings` is inductive.arithmetic's answer, or a message where it has none."""
    out = shown["out"]
    where = f"settings {settings}: page shows {json.dumps(out, ensure_ascii=False)}, message {shown['error']!r}"
    assert not re.search(r"NaN|undefined|Infinity|\bnull\b|\[object", shown["text"]), where
    assert all(out[key].strip() for key in NUMBERS), where  # never a blank
    call = closed_form(settings)
    try:
        closed = layer_arithmetic(*call) if call else None
    except LayerSettingError:
        closed = None
    if closed is None:
        assert shown["error"], where
        assert all(out[key] == "—" for key in NUMBERS), where
        assert "does not fit" in shown["error"] if call else re.search(r" is (-?\d+|empty|\S+):", shown["error"]), where
        return
    name, config, input_shape = call
    batch, params = settings["B"], closed.params
    hwc = (settings["H"], settings["W"], settings["C"])
    dense = dense_equivalent_params(input_shape if name == "Dense" else hwc, closed.output_shape,
                                    config.get("use_bias", True))
    n_in = "*".join(map(str, input_shape if name == "Dense" else hwc))
    n_out = "*".join(map(str, closed.output_shape))
    assert not shown["error"], where
    assert out["shape"] == str((batch, *closed.output_shape)), where
    assert out["params-formula"] == pretty(closed.params_formula), where
    assert (out["params"], out["weights"], out["biases"]) == (f"{params.total:,}", f"{params.weights:,}",
                                                              f"{params.biases:,}"), where
    assert (out["macs-formula"], out["macs"]) == (pretty(closed.macs_formula), f"{closed.macs:,}"), where
    assert out["batch-macs"] == f"{closed.macs * batch:,}", where
    assert out["dense-formula"] == pretty(f"{n_in} * {n_out}" + (f" + {n_out}" if dense.biases else "")), where
    assert out["dense"] == f"{dense.total:,}", where
    if params.total == 0:
        assert out["ratio"] == "no weights", where
    else:
        ratio, digits = dense.total / params.total, out["ratio"].rstrip("×").replace(",", "").partition(".")[2]
        assert abs(float(out["ratio"].rstrip("×").replace(",", "")) - ratio) <= 0.5 * 10 ** -len(digits) + 1e-9, where
        assert len(digits) == (0 if ratio >= 100 else 1 if ratio >= 10 else 2), where
        saved = dense.total - params.total
        assert name != "Conv2D" or f"{abs(saved):,}" in out["saving-note"] or saved == 0, where
    # The command the page offers gives the same layer in `python -m inductive.explain`.
    argv = out["command"].split()
    assert argv[:3] == ["python", "-m", "inductive.explain"], where
    explain_name, explain_config, batch_shape = layer_config(*parse_overrides(argv[3:], EXPLAIN_DEFAULTS))
    assert batch_shape == (batch, *input_shape), where
    assert layer_arithmetic(explain_name, explain_config, batch_shape[1:]) == closed, where


SET_ALL = """
const results = [];
for (const settings of arguments[0]) {
  const shown = window.explorer.set(settings);
  shown.text = document.querySelector("main").textContent;
  results.push(shown);
}
return results;
"""


def test_random_settings_match_the_closed_form(page):
    settings = random_settings(300)
    shown = page.execute_script(SET_ALL, settings)
    for one, result in zip(settings, shown, strict=True):
        check_shown(one, result)
    invalid = sum(bool(result["error"]) for result in shown)
    assert 30 <= invalid <= 120, f"{invalid} of 300 settings invalid: the mix should test both"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kh", 9, 'The 9 × 3 kernel does not fit inside the 8 × 8 input with padding "valid" (kernel height 9 > input height 8)'),
        ("H", 0, "Input height H is 0: a size must be at least 1."),
        ("C", "", "Input channels C is empty"),
        ("F", "2.5", "Filters is 2.5: enter a whole number"),
        ("sw", -1, "Stride along the width is -1"),
    ],
)
def test_invalid_settings_say_why(page, field, value, message):
    settings = {"layer": "Conv2D", "B": 4, "H": 8, "W": 8, "C": 3, "F": 4, "kh": 3, "kw": 3, "sh": 1, "sw": 1,
                "padding": "valid", "bias": True, field: value}
    shown = page.execute_script(SET_ALL, [settings])[0]
    assert message in shown["error"]
    check_shown(settings, shown)
    visible = page.execute_script("""const e = document.getElementById("error");
        return e.offsetHeight > 0 && getComputedStyle(e).color""")
    assert visible, "the message is not displayed"


def test_kernel_too_large_with_same_padding_is_fine(page):
    settings = {"layer": "Conv2D", "B": 1, "H": 2, "W": 2, "C": 1, "F": 1, "kh": 5, "kw": 5, "sh": 1, "sw": 1,
                "padding": "same", "bias": True}
    shown = page.execute_script(SET_ALL, [settings])[0]
    check_shown(settings, shown)
    assert "fewer: the kernel is larger than the input" in shown["out"]["saving-note"]


def test_presets_show_the_lecture_numbers(page):
    shown = page.execute_script("""
        return [...document.querySelectorAll(".presets button")].map((button) => {
          button.click();
          const result = window.explorer.read();
          result.name = button.dataset.preset;
          result.text = document.querySelector("main").textContent;
          return result;
        });""")
    assert len(shown) >= 18
    by_name = {result["name"]: result["out"] for result in shown}
    for result in shown:
        assert not result["error"], result
        settings = dict(result["state"])
        check_shown(settings, result)
    assert (by_name["3 × 3"]["shape"], by_name["3 × 3"]["params"]) == ("(32, 64, 64, 12)", "1,740")
    assert [by_name[k]["params"] for k in ("5 × 5", "7 × 7", "3 × 3 on 128 × 128", "64 filters")] == \
        ["4,812", "9,420", "1,740", "9,280"]
    assert [by_name[k]["shape"] for k in ("3 × 3 valid", "7 × 7 valid", "28 × 28 valid", "28 × 28 same")] == \
        ["(32, 26, 26, 1)", "(32, 22, 22, 1)", "(32, 1, 1, 1)", "(32, 28, 28, 1)"]
    assert [by_name[k]["shape"] for k in ("stride 1", "stride 2", "stride 4")] == \
        ["(32, 28, 28, 1)", "(32, 14, 14, 1)", "(32, 7, 7, 1)"]
    conv, dense = by_name["8 × 8 conv on 8 × 8 × 3"], by_name["Dense(8) on the flattened input"]
    assert conv["params"] == conv["dense"] == dense["params"] == "1,544" and conv["ratio"] == "1.00×"
    assert by_name["MaxPool2D 2 × 2"]["shape"] == "(32, 32, 32, 16)"
    assert (by_name["GlobalAveragePooling2D"]["shape"], by_name["GlobalAveragePooling2D"]["params"]) == ("(32, 16)", "0")


POINT = """
const [id, row, col, rows, type] = arguments, canvas = document.getElementById(id), box = canvas.getBoundingClientRect();
const size = (box.height - 1) / rows;
canvas.dispatchEvent(new MouseEvent(type, {clientX: box.left + (col + 0.5) * size, clientY: box.top + (row + 0.5) * size, bubbles: true}));
return [document.getElementById("hover-text").textContent, document.getElementById("step-text").textContent];
"""


@pytest.mark.parametrize(
    ("changes", "cell", "says"),
    [
        ({}, (2, 2), "Input cell (row 2, col 2) falls in the window of 4 output cells."),
        ({}, (8, 0), "This padding cell falls in the window of 1 output cell."),  # Keras pads below, not above
        ({"kh": 1, "kw": 1, "padding": "valid"}, (1, 0), "falls in the window of 0 output cells: the stride steps over it."),
        ({"layer": "MaxPool2D"}, (8, 8), "This padding cell falls in the window of 1 output cell (pooling skips it)."),
    ],
)
def test_pointing_at_an_input_cell_shows_the_outputs_it_feeds(page, changes, cell, says):
    settings = {"layer": "Conv2D", "B": 1, "H": 8, "W": 8, "C": 3, "F": 4, "kh": 3, "kw": 3, "sh": 2, "sw": 2,
                "padding": "same", "bias": True, **changes}
    shown = page.execute_script(SET_ALL, [settings])[0]
    check_shown(settings, shown)
    padded = 8 + (1 if settings["padding"] == "same" and settings["kh"] == 3 else 0)
    hover, _ = page.execute_script(POINT, "grid-in", *cell, padded, "mousemove")
    assert says in hover


def test_clicking_an_output_cell_moves_the_kernel_there(page):
    _, step = page.execute_script(POINT, "grid-out", 3, 2, 4, "click")
    assert step.startswith("Output (row 3, col 2) reads input rows 6–7, cols 4–6 (3 of the 9 cells are padding zeros)")


def test_page_makes_no_network_request(browser, tmp_path):
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / "fig.png").write_bytes(PNG)
    (folder / "README.md").write_text("# Answers\n\n![fig](fig.png)\n")
    path = write_page(tmp_path, f"figures={folder}")
    browser.get_log("performance")  # drop what earlier tests logged
    browser.get(path.as_uri())
    blocked = browser.execute_async_script("""
        const done = arguments[arguments.length - 1], seen = [];
        document.addEventListener("securitypolicyviolation", (e) => seen.push(e.effectiveDirective));
        fetch("https://example.com/").then(() => done(["fetched"]), () => setTimeout(() => done(seen), 50));""")
    assert blocked == ["connect-src"], "the page's Content-Security-Policy does not block fetch"
    image_ok = browser.execute_script("""const img = document.querySelector("#figures img");
        return img.complete && img.naturalWidth > 0""")
    assert image_ok, "the inlined figure did not render"
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    urls = [message["params"]["request"]["url"] for entry in browser.get_log("performance")
            if (message := json.loads(entry["message"])["message"])["method"] == "Network.requestWillBeSent"]
    assert urls and all(url.startswith(("file:", "data:")) for url in urls), urls


def test_screenshot_at_a_typical_setting(page, tmp_path):
    settings = {"layer": "Conv2D", "B": 32, "H": 8, "W": 8, "C": 3, "F": 4, "kh": 3, "kw": 3, "sh": 2, "sw": 2,
                "padding": "same", "bias": True}
    shown = page.execute_script(SET_ALL, [settings])[0]
    check_shown(settings, shown)
    page.execute_script("window.explorer.step(5)")
    # the grids are drawn: the kernel's colour is on the input canvas, the current output cell on the output one
    painted = page.execute_script("""
        const count = (id) => { const c = document.getElementById(id), d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
          let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] < 120 && d[i + 2] < 60) n++; return n; };
        return [count("grid-in"), count("grid-out")];""")
    assert min(painted) > 100, painted
    assert "Output (row 1, col 1) reads input rows 2–4, cols 2–4" in page.find_element("id", "step-text").text
    folder = Path(os.environ.get("INDUCTIVE_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    height = page.execute_script("return document.documentElement.scrollHeight")
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                         {"width": 1440, "height": min(height, 1400), "deviceScaleFactor": 1, "mobile": False})
    path = folder / "explorer.png"
    assert page.save_screenshot(str(path))
    page.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert path.stat().st_size > 50_000
    print(f"screenshot: {path}")
