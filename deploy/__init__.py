"""The production layout: nginx in front of page processes, socket processes and the django-q2 cluster.

`render` writes nginx's configuration from `nginx.conf.template`; `layout` starts the whole layout on one machine
for `make prod-check` and the fault scripts under bench/prod/. Plumbing only: no Django app imports this.
"""
