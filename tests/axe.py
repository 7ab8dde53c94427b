"""axe-core, the accessibility checker, from the npm registry: fetched once with `npm pack` into var/
(gitignored), then injected into pages by the tests.

    .venv/bin/python -m tests.axe     # fetch it now (scripts/setup.sh test does)
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

AXE_VERSION = "4.10.3"
CACHE = Path(__file__).resolve().parent.parent / "var" / "axe-core" / AXE_VERSION
SCRIPT = CACHE / "axe.min.js"


def axe_script() -> Path:
    """The path of axe.min.js, fetched with npm on first use."""
    if SCRIPT.exists():
        return SCRIPT
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed once to fetch axe-core (apt-get install npm, or scripts/setup.sh test)")
    with tempfile.TemporaryDirectory(prefix="axe-core-") as tmp:
        subprocess.run([npm, "pack", f"axe-core@{AXE_VERSION}", "--silent", "--pack-destination", tmp],
                       cwd=tmp, check=True, capture_output=True, timeout=300)
        (tarball,) = Path(tmp).glob("axe-core-*.tgz")
        with tarfile.open(tarball) as archive:
            member = archive.getmember("package/axe.min.js")
            data = archive.extractfile(member).read()
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = SCRIPT.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(SCRIPT)  # whole or not at all, if two test runs fetch at once
    return SCRIPT


def serious_violations(page) -> list[str]:
    """Run axe on the page as it is now; its serious and critical violations, one line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # evaluated through the DevTools protocol, which the page's CSP (script-src 'self') allows
        page.evaluate(axe_script().read_text() + "\n;true")
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ["violations"]});
        return r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => v.impact + " " + v.id + ": " + v.help + " @ " + v.nodes.map(n => n.target.join(" ")).join(", "));
    }""")
    return list(result)


if __name__ == "__main__":
    print(axe_script())
