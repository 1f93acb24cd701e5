"""Markdown pages as single self-contained HTML files: figures inlined, nothing fetched from a network.

The explorer page and each report's report.html are built this way, so an instructor can open the file
from a USB stick in any browser.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

MIME = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}


def data_uri(path: Path) -> str:
    return f"data:{MIME[path.suffix.lower()]};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def render_markdown(text: str, folder: Path, used: set[Path]) -> str:
    """Markdown as HTML with its local images inlined (added to `used`); links keep their text only."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(text)
    for token in tokens:
        for child in token.children or []:
            if child.type == "image":
                path = folder / str(child.attrGet("src"))
                if path.suffix.lower() in MIME and path.is_file():
                    child.attrSet("src", data_uri(path))
                    used.add(path.resolve())
                else:  # a remote or missing image would be a broken or network-bound <img>
                    child.type, child.tag, child.content, child.children = "text", "", f"[{child.content}]", None
            elif child.type == "link_open":  # its target is a file beside the Markdown, not beside the page
                child.attrSet("title", str(child.attrs.pop("href", "")))
    return md.renderer.render(tokens, md.options, {})


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:.3em .6em;vertical-align:top}
th{background:#f2f2f2}img{max-width:100%;height:auto;border:1px solid #eee}code{background:#f5f5f5;padding:0 .2em}
blockquote{color:#555;border-left:4px solid #ddd;margin-left:0;padding-left:1em}"""


def page(markdown: str, folder: Path, title: str) -> str:
    """One HTML document holding `markdown` rendered, with every local image beside it inlined."""
    body = render_markdown(markdown, folder, set())
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n")
