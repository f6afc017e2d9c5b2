"""How long the command line and the service package take to start (best of several fresh processes),
and which heavy modules each pulls in. Compare a tree by pointing PYTHONPATH at its src/.

    .venv/bin/python benchmarks/cli_startup.py
"""

from __future__ import annotations

import subprocess
import sys
import time

HEAVY = ("requests", "google.auth", "PIL", "cryptography.x509", "uvicorn", "starlette", "jwt", "tqdm")
CASES = {
    "python -c pass": ["-c", "pass"],
    "walletvoucher --version": ["-m", "walletvoucher", "--version"],
    "walletvoucher build --help": ["-m", "walletvoucher", "build", "--help"],
    "import walletvoucher.service": ["-c", "import walletvoucher.service"],
    "from walletvoucher.google import save_link": ["-c", "from walletvoucher.google import save_link"],
}
PROBE = ("import sys, runpy; sys.argv = {argv!r}\n{body}\n"
         "print('HEAVY:' + ','.join(m for m in {heavy!r} if m in sys.modules))")


def best_of(args: list[str], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], capture_output=True, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def heavy_modules(args: list[str]) -> str:
    if args[0] == "-m":
        body = f"try:\n    runpy.run_module({args[1]!r}, run_name='__main__')\nexcept SystemExit:\n    pass"
        argv = [args[1], *args[2:]]
    else:
        body, argv = args[1], ["-c"]
    done = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv, body=body, heavy=HEAVY)],
                          capture_output=True, text=True, check=True)
    return next(line[6:] for line in done.stdout.splitlines() if line.startswith("HEAVY:"))


def main(rounds: int = 7) -> None:
    for name, args in CASES.items():
        print(f"{name:45} {best_of(args, rounds) * 1000:7.0f} ms   heavy: {heavy_modules(args) or '-'}")


if __name__ == "__main__":
    main()
