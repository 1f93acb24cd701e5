"""`python -m inductive.explorer [out=FILE] [figures=DIR]`: the lecture's Conv2D widget as one offline HTML page.

    python -m inductive.explorer                                    # -> results/explorer.html
    python -m inductive.explorer out=explorer.html figures=results/conv_questions
    python -m inductive.explorer figures=[results/conv_questions,outputs/sweep/report]

The page (template: explorer.html next to this module) has everything inline and makes no network
request, so it works opened from disk. Its JavaScript closed form mirrors inductive.arithmetic, and
tests/test_explorer.py checks the numbers it shows against that module in headless Chromium.
`figures` inlines each folder's README.md and report.md, rendered, with the images they show as data
URIs, and any other PNG there in a gallery. Takes well under a second.
"""

from __future__ import annotations

import html
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

from inductive.arguments import output_path, parse_overrides, read_input, wants_help
from inductive.errors import ConfigError, require
from inductive.evidence.html import MIME, data_uri, render_markdown  # noqa: F401  (MIME: used by tests)

DEFAULTS: dict[str, Any] = {"out": "results/explorer.html", "figures": None}
MARKER = "<!-- figures -->"  # where the template takes the figures section
DOCUMENTS = ("README.md", "report.md")
def figures_section(folders: list[Path]) -> str:
    """The page's figures: each folder's Markdown documents, then its PNGs that no document shows."""
    parts = ['<section id="figures">', '<h2 class="title">Reference answers and figures</h2>']
    for folder in folders:
        used: set[Path] = set()
        for name in DOCUMENTS:
            path = folder / name
            if path.is_file():
                shown = read_input(path, lambda p: render_markdown(p.read_text(encoding="utf-8"), folder, used),
                                   "UTF-8 Markdown whose images can be read", f"figures={folder}")
                parts.append(f'<article class="doc"><p class="hint">{html.escape(str(path))}</p>{shown}</article>')
        others = [path for path in sorted(folder.glob("*.png")) if path.resolve() not in used]
        if others:
            figures = "".join(f'<figure><img src="{read_input(path, data_uri, "an image", f"figures={folder}")}" '
                              f'alt="{html.escape(path.stem)}">'
                              f"<figcaption>{html.escape(path.name)}</figcaption></figure>" for path in others)
            parts.append(f'<article class="doc"><h2>Figures in {html.escape(str(folder))}</h2>'
                         f'<div class="gallery">{figures}</div></article>')
    return "\n".join(parts + ["</section>"])


def figure_folders(value: Any) -> list[Path]:
    """`figures` as folders that hold something to embed (null: none)."""
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    folders = []
    for item in values:
        folder = Path(str(item))
        require(folder.is_dir(), "figures", item, "no such folder; give a folder like results/conv_questions")
        require(any((folder / name).is_file() for name in DOCUMENTS) or any(folder.glob("*.png")), "figures", item,
                f"the folder holds no {' or '.join(DOCUMENTS)} and no PNG figure to embed")
        folders.append(folder)
    return folders


def build_page(folders: list[Path]) -> str:
    """The explorer page, with the figures of `folders` (none: no figures section)."""
    template = files("inductive.lecture").joinpath("explorer.html").read_text(encoding="utf-8")
    return template.replace(MARKER, figures_section(folders) if folders else "", 1)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if wants_help(argv, __doc__):
        return 0
    try:
        cfg, _ = parse_overrides(argv, DEFAULTS)
        out = output_path("out", cfg["out"], "file", example="an HTML file like explorer.html")
        page = build_page(figure_folders(cfg["figures"]))
    except ConfigError as err:
        print(f"explorer: {err}", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    print(f"wrote {out} ({len(page.encode()) / 1024:.0f} KB): open it in any browser, no server or network needed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
