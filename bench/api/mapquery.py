"""Time the map-layer query in-process on DATABASE_URL over the same random viewports, and show its plan.

    DATABASE_URL=... .venv/bin/python bench/api/mapquery.py 300
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.http import QueryDict  # noqa: E402

from bench.api.load import viewport  # noqa: E402
from projects.dataversion import data_version  # noqa: E402
from projects.filters import ProjectFilterForm  # noqa: E402
from projects.maplayer import explain_map_query, indexed, map_layer  # noqa: E402
from projects.models import Project  # noqa: E402


def main(count: int) -> None:
    rng = random.Random(7)
    timings, modes = [], {"points": 0, "clusters": 0}
    plan = ""
    for n in range(count):
        query = QueryDict(viewport(rng))
        form = ProjectFilterForm(query)
        assert form.is_valid(), form.errors
        queryset = indexed(form.apply(Project.objects.all()), form)
        started = time.perf_counter()
        layer = json.loads(map_layer(form, zoom=int(query["zoom"]), version=data_version()))
        timings.append((time.perf_counter() - started) * 1000)
        modes[layer["mode"]] += 1
        if n == 0:
            plan = explain_map_query(queryset, zoom=int(query["zoom"]))
    timings.sort()
    print(json.dumps({"database": connection.vendor, "queries": count, "modes": modes,
                      "p50_ms": round(timings[len(timings) // 2], 1),
                      "p95_ms": round(timings[int(len(timings) * 0.95)], 1),
                      "mean_ms": round(statistics.fmean(timings), 1)}))
    print(plan)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
