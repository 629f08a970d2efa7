"""One module per external source: pure `parse_*` functions returning dataclasses, and `fetch_*` functions."""
