"""The project detail in-process with and without Django's ConditionalGetMiddleware, alternated in one process.

    DATABASE_URL=postgis://... CHANNEL_LAYER=memory .venv/bin/python bench/api/conditional_get_ab.py

Uses the API bench's seeded database (bench/api/run.sh). Prints the median request time of six rounds each.
"""
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")
import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from projects.models import Project  # noqa: E402

ids = [str(i) for i in Project.objects.values_list("id", flat=True)[:2000]]
full = list(settings.MIDDLEWARE)
without = [m for m in full if "ConditionalGet" not in m]


def run(mw, n=300):
    with override_settings(MIDDLEWARE=mw):
        c = Client()
        t = []
        for _ in range(n):
            start = time.perf_counter()
            c.get(f"/api/v1/projects/{random.choice(ids)}")
            t.append((time.perf_counter() - start) * 1000)
    return statistics.median(t)


res = {"with": [], "without": []}
for r in range(6):
    for name, mw in (("with", full), ("without", without)) if r % 2 == 0 else (("without", without), ("with", full)):
        res[name].append(run(mw))
print({k: [round(v, 3) for v in vs] for k, vs in res.items()})
print({k: round(statistics.median(v), 3) for k, v in res.items()})
