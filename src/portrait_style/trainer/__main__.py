"""`python -m portrait_style.trainer ARGS` = `portrait-style train ARGS`; the entry point for torchrun:

torchrun --nproc_per_node 4 -m portrait_style.trainer --config studio.toml
"""

from __future__ import annotations

import argparse
import sys

from portrait_style.errors import PortraitStyleError
from portrait_style.trainer.cli import configure_parser, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m portrait_style.trainer", description=__doc__.splitlines()[0]
    )
    configure_parser(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except PortraitStyleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
