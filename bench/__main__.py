"""Run every benchmark in turn: `python -m bench` (or `make bench`)."""
import importlib
import sys

SUITES = ["bench.seed", "bench.nginx", "bench.admin_pages", "bench.api", "bench.scale", "bench.history", "bench.bulk"]


def main() -> int:
    status = 0
    for name in SUITES:
        print(f"\n# {name}\n", flush=True)
        status |= importlib.import_module(name).main([])
    return status


if __name__ == "__main__":
    sys.exit(main())
