"""Turn the ``# %%`` vignettes into sphinx-gallery examples without touching them.

The vignettes are jupytext "percent" scripts whose text cells are Markdown
(``# %% [markdown]``); sphinx-gallery reads reStructuredText text blocks. At build time
:func:`prepare_gallery_sources` writes a converted copy of each vignette (same code, text
cells rewritten as reST) into a generated folder that sphinx-gallery executes. The
vignettes save their figures to ``$ESTKIT_OUTPUT`` and close them, so
:class:`OutputScraper` collects the PNG files each code block wrote there.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
_CODE = re.compile(r"(?<!`)`([^`]+)`(?!`)")
_UNDERLINE = {1: "=", 2: "-", 3: "~", 4: "^", 5: '"', 6: "'"}


def markdown_to_rst(lines: list[str]) -> list[str]:
    """Convert the Markdown subset the vignettes use (headings, code, links, lists) to reST."""
    out: list[str] = []
    for line in lines:
        m = _HEADING.match(line)
        if m:
            level, title = len(m.group(1)), m.group(2).strip()
            title = _CODE.sub(r"``\1``", title)
            if out and out[-1].strip():
                out.append("")
            out.extend([title, _UNDERLINE[level] * max(len(title), 3), ""])
            continue
        line = _LINK.sub(r"`\1 <\2>`__", line)
        line = _CODE.sub(r"``\1``", line)
        out.append(line)
    return out


def convert_vignette(source: str) -> str:
    """Rewrite a percent-format vignette as a sphinx-gallery example (code unchanged)."""
    lines = source.splitlines()
    result: list[str] = []
    i = 0
    first_text = True
    while i < len(lines):
        line = lines[i]
        if line.startswith("# %% [markdown]"):
            i += 1
            text: list[str] = []
            while i < len(lines) and (lines[i].startswith("#") and not lines[i].startswith("# %%")):
                text.append(lines[i][2:] if lines[i].startswith("# ") else lines[i][1:])
                i += 1
            rst = markdown_to_rst(text)
            while rst and not rst[-1].strip():
                rst.pop()
            if first_text:
                # sphinx-gallery takes the title and introduction from the module docstring
                result.append('"""')
                result.extend(rst)
                result.append('"""')
                first_text = False
            else:
                result.append("# %%")
                result.extend(("# " + r) if r.strip() else "#" for r in rst)
            continue
        result.append(line)
        i += 1
    return "\n".join(result) + "\n"


def prepare_gallery_sources(vignettes: Path, target: Path) -> list[Path]:
    """Write converted copies of ``vignettes/*.py`` and a gallery header into ``target``."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    (target / "GALLERY_HEADER.rst").write_text(
        "Examples\n========\n\n"
        "The package's vignettes, executed when this site is built. Each one is also a\n"
        "runnable script in the repository's ``vignettes/`` folder\n"
        "(``python vignettes/NAME.py``).\n"
    )
    written = []
    for path in sorted(vignettes.glob("*.py")):
        dest = target / path.name
        dest.write_text(convert_vignette(path.read_text()))
        written.append(dest)
    return written


class OutputScraper:
    """sphinx-gallery image scraper: the PNG files a code block wrote to ``$ESTKIT_OUTPUT``."""

    def __init__(self) -> None:
        self.seen: set[Path] = set()

    def __repr__(self) -> str:  # sphinx-gallery hashes the configuration by repr
        return "OutputScraper()"

    def __call__(self, block: object, block_vars: dict, gallery_conf: dict) -> str:
        from sphinx_gallery.scrapers import figure_rst

        out = Path(os.environ["ESTKIT_OUTPUT"])
        new = sorted(p for p in out.glob("**/*.png") if p not in self.seen)
        self.seen.update(new)
        image_paths = []
        for png, image_path in zip(new, block_vars["image_path_iterator"], strict=False):
            shutil.copyfile(png, image_path)
            image_paths.append(image_path)
        return figure_rst(image_paths, gallery_conf["src_dir"])
