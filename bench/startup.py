"""Measure what the start-up hook (ultralytics_shufflenet.pth) costs every Python process of this environment.

Reports the hook module's own import time (``python -X importtime``), the wall time of ``python -c pass`` with the
hook active and opted out (``ULTRALYTICS_SHUFFLENET_AUTOLOAD=0``), interleaved, and which heavy modules start-up
imports (none expected). Target: under 5 ms.

    python -m bench startup [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HOOK = "_ultralytics_shufflenet_hook"


def hook_import_us() -> int:
    """Cumulative import time of the hook module, in microseconds, as ``-X importtime`` reports it."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"], capture_output=True, text=True).stderr
    line = next((x for x in err.splitlines() if re.search(rf"\|\s+{HOOK}$", x.rstrip())), None)
    if line is None:
        raise SystemExit(f"{HOOK} is not imported at start-up: is the package installed in this environment?")
    return int(re.findall(r"\d+", line)[1])  # "import time: self [us] | cumulative | name"


def wall_ms(env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    return (time.perf_counter() - start) * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args(argv).runs
    active = {k: v for k, v in os.environ.items() if k != "ULTRALYTICS_SHUFFLENET_AUTOLOAD"}
    opted_out = {**active, "ULTRALYTICS_SHUFFLENET_AUTOLOAD": "0"}
    imports = sorted(hook_import_us() for _ in range(runs))
    on, off = [], []
    for _ in range(runs):  # interleaved, so machine noise hits both alike
        on.append(wall_ms(active))
        off.append(wall_ms(opted_out))
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'torch', 'ultralytics', 'ultralytics_shufflenet', 'numpy', 'cv2'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"Python {sys.version.split()[0]} ({sys.executable}), {runs} runs each")
    print("| measure | median | min | max |")
    print("|---|---|---|---|")
    print(
        f"| hook import, -X importtime (ms) | {statistics.median(imports) / 1e3:.3f} | {imports[0] / 1e3:.3f} | "
        f"{imports[-1] / 1e3:.3f} |"
    )
    print(f"| python -c pass, hook active (ms) | {statistics.median(on):.1f} | {min(on):.1f} | {max(on):.1f} |")
    print(f"| python -c pass, opted out (ms) | {statistics.median(off):.1f} | {min(off):.1f} | {max(off):.1f} |")
    print(f"| difference of medians (ms) | {statistics.median(on) - statistics.median(off):.1f} | | |")
    print(f"Heavy modules imported by start-up: {heavy}")
    return 0
