"""Metrics and logs (issue 18): `/metrics` for Prometheus, structured JSON logs, and a request id that follows a
request into the tasks it queues. The instruments themselves are in `bukaamanzi.lib.metrics`, low enough for any
app to count with."""
