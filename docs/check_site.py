"""Open the built documentation site in headless Chromium and fail on what a reader would see.

Usage: ``python docs/check_site.py [docs/_build/html]``.

Checks:

1. a JavaScript error (uncaught exception or ``console.error``) on the landing page, an API
   page and the gubernatorial example, as Chromium reports them;
2. an image on those pages that the browser could not load (``naturalWidth == 0`` after the
   load event), inspected in the browser through a same-origin checker page;
3. a broken internal link anywhere in the site: every relative ``href``/``src`` of every page
   must name an existing file, and its ``#fragment`` an existing ``id`` in that file.

Exit status 1 with a list of the problems, 0 when the site is clean. Needs Debian's
``chromium`` (``apt-get install chromium``); nothing is fetched from the network.
"""

from __future__ import annotations

import html.parser
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

PAGES = ["index.html", "api/generated/r3d.R3D.html", "examples/gubernatorial.html"]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-file-access-from-files",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=15000",
]

CHECKER = """<!doctype html><html><body><pre id="out">pending</pre><script>
const pages = %s;
const results = {};
let left = pages.length;
function done() {
  document.getElementById("out").textContent = "RESULT " + JSON.stringify(results);
}
for (const page of pages) {
  const frame = document.createElement("iframe");
  frame.style.width = "1280px"; frame.style.height = "900px";
  frame.onload = () => {
    const doc = frame.contentDocument;
    const imgs = Array.from(doc.images);
    const wait = imgs.map(img => img.complete ? Promise.resolve() :
      new Promise(r => { img.onload = r; img.onerror = r; }));
    Promise.all(wait).then(() => {
      results[page] = {
        title: doc.title,
        images: imgs.length,
        broken: imgs.filter(i => i.naturalWidth === 0).map(i => i.getAttribute("src")),
      };
      if (--left === 0) done();
    });
  };
  frame.src = page;
  document.body.appendChild(frame);
}
</script></body></html>"""


class _Refs(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value and tag in ("a", "img", "link", "script"):
                self.refs.append(value)


def _parse(path: Path) -> _Refs:
    parser = _Refs()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def broken_links(site: Path) -> list[str]:
    """Relative links of every page that name a missing file or a missing fragment."""
    problems = []
    parsed: dict[Path, _Refs] = {}
    pages = sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts)
    for page in pages:
        parsed[page] = _parse(page)
    for page in pages:
        for ref in parsed[page].refs:
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc or ref.startswith(("mailto:", "javascript:")):
                continue
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if parts.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{page.relative_to(site)}: missing target {ref}")
                continue
            if parts.fragment and target.suffix == ".html":
                if target not in parsed:
                    parsed[target] = _parse(target)
                if unquote(parts.fragment) not in parsed[target].ids:
                    problems.append(f"{page.relative_to(site)}: missing anchor {ref}")
    return problems


def browser_problems(site: Path, chromium: str) -> list[str]:
    """JavaScript errors and images the browser could not load on the checked pages."""
    problems = []
    missing = [p for p in PAGES if not (site / p).exists()]
    problems += [f"{p}: page not built" for p in missing]
    pages = [p for p in PAGES if p not in missing]
    checker = site / "_check_site.html"
    checker.write_text(CHECKER % json.dumps(pages))
    try:
        with tempfile.TemporaryDirectory() as profile:
            proc = subprocess.run(
                [
                    chromium,
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={profile}",
                    "--dump-dom",
                    checker.as_uri(),
                ],
                capture_output=True,
                text=True,
                timeout=180,
            )
    finally:
        checker.unlink()
    for line in proc.stderr.splitlines():
        if ":CONSOLE" in line and ("Uncaught" in line or "Error" in line or "error" in line):
            problems.append(f"JavaScript: {line.split('] ', 1)[-1]}")
    match = re.search(r"RESULT (\{.*\})", proc.stdout)
    if not match:
        return [*problems, f"the checker page did not finish (exit {proc.returncode})"]
    results = json.loads(match.group(1).replace("&quot;", '"'))
    for page in pages:
        info = results.get(page)
        if info is None:
            problems.append(f"{page}: not loaded in the browser")
            continue
        if not info["title"]:
            problems.append(f"{page}: empty title")
        problems += [f"{page}: image did not load: {src}" for src in info["broken"]]
        print(f"{page}: title {info['title']!r}, {info['images']} image(s) loaded")
    if (
        "examples/gubernatorial.html" in results
        and results["examples/gubernatorial.html"]["images"] == 0
    ):
        problems.append("examples/gubernatorial.html: the example shows no figure")
    return problems


def main(argv: list[str]) -> int:
    site = Path(argv[1] if len(argv) > 1 else "docs/_build/html").resolve()
    if not (site / "index.html").exists():
        print(f"no built site at {site} (build it with sphinx first)", file=sys.stderr)
        return 1
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium not found: apt-get install chromium", file=sys.stderr)
        return 1
    problems = broken_links(site) + browser_problems(site, chromium)
    n_pages = sum(1 for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts)
    sys.stdout.flush()
    if problems:
        print(f"{len(problems)} problem(s) in {n_pages} pages:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print(f"site OK: {n_pages} pages, no broken internal link, no JavaScript error")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
