"""The same API scenarios on earlier commits and on this tree, alternated, on one SpatiaLite database, with wrk.

    .venv/bin/python bench/http/trees.py 655582e 2e524c0 --rounds 2     # after bench/http/run.py has seeded

Why: a before/after pair is only comparable when measured minutes apart on the same machine and data. Each
commit is checked out as a git worktree under var/bench/tree-<commit> (sharing .venv) and serves the database
that bench/http/run.py seeded (var/bench/http/ours.sqlite3: the tables of these commits are the same; the moves
between them were state-only). Every side is served by daphne, one process, with the response cache off, so only
the code differs; this tree is also measured on its own page server (granian) for reference. Results:
var/bench/http/trees.jsonl and a table on standard output.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.http.run import OURS_PORT, OUT, Settings, measure, ours_env, server_commands, started  # noqa: E402

SCENARIOS = ("detail", "list_100", "map")


def worktree(commit: str) -> Path:
    """A checkout of `commit` that shares this tree's .venv."""
    tree = ROOT / "var" / "bench" / f"tree-{commit}"
    if not tree.exists():
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(tree), commit], cwd=ROOT, check=True)
        (tree / ".venv").symlink_to(ROOT / ".venv")
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commits", nargs="+")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    database = OUT / "ours.sqlite3"
    paths = {name: OUT / f"{name}.paths" for name in SCENARIOS}
    if not database.exists() or not all(path.exists() for path in paths.values()):
        sys.exit("run bench/http/run.py first: it seeds the database and writes the path files")
    commands = server_commands(OURS_PORT)
    sides = [(commit, worktree(commit), commands["daphne"]) for commit in args.commits]
    sides += [("this tree", ROOT, commands["daphne"]), ("this tree, granian", ROOT, commands["granian-wsgi"])]
    env = ours_env(f"spatialite:///{database}", API_CACHE_SECONDS="0")
    settings = Settings(args.seconds, args.warmup, connections=16)
    for round_ in range(1, args.rounds + 1):
        for name, tree, command in sides:
            with started(f"tree-{name.replace(' ', '-').replace(',', '')}", OURS_PORT, command, env, tree,
                         "/api/v1/health") as server:
                for scenario in SCENARIOS:
                    measure(settings, f"{name} #{round_}", scenario, server, paths[scenario], OUT / "trees.jsonl")
    print("\n| side | " + " | ".join(f"{s} req/s (p95 ms), CPU ms/req" for s in SCENARIOS) + " |")
    print("|---|" + "---|" * len(SCENARIOS))
    for name, _, _ in sides:
        cells = []
        for scenario in SCENARIOS:
            runs = [r for r in settings.results if r["setup"].startswith(f"{name} #") and r["scenario"] == scenario]
            cells.append("; ".join(f"{r['rps']:.0f} ({r['p95_ms']:.0f}), {r['server_cpu_ms_per_request']}"
                                   for r in runs))
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
