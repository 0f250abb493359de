"""``python -m bench <command> [options]``: every measurement of the project; ``--help`` after a command for its
options."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

if not __package__:  # run as 'python path/to/bench': the package's parent folder makes it importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import COMMANDS  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        width = max(map(len, COMMANDS))
        lines = [f"  {name:<{width}}  {about}" for name, (_, about) in COMMANDS.items()]
        print("usage: python -m bench <command> [options]\n\ncommands:\n" + "\n".join(lines))
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(f"bench.{COMMANDS[argv[0]][0]}")
    sys.argv[0] = f"python -m bench {argv[0]}"  # what argparse prints as the command's usage
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
