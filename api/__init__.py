"""HTTP only: Qdrant's REST routes on Falcon, served by waitress.

A request travels through:
- `app.py`: `create_app()`, the routes, the middleware (timing, API keys, metrics);
- `params.py` and `http.py`: query parameters, JSON bodies, Qdrant's envelopes and errors;
- `points.py` and `collections.py`: one class per resource, each with only its own methods.
  A write's body is validated into an event by `projections.events` against the collection;
- `writes.py`: the event is appended to the log (`projections.log`), a worker is kicked
  (`projections.jobs`), and the answer waits for the worker when `wait=true`;
- reads go to `projections.reads` and `projections.search` (`facet.py` and `matrix.py` to
  `projections.facets` and `projections.distance_matrix`), after read-your-writes;
- pointlog's own: `changes.py` (the change feed) and `history.py` (a point's history);
  `aliases.py` changes and lists aliases, which every route resolves (`context.py`);
  `request_log.py` writes a line a request;
- operating collections: `config.py` (PATCH, vector names added and removed, as events),
  `strict.py` (where requests meet strict mode), `snapshots.py`, `optimizations.py`;
- the service: `service.py` (version, health, cluster), `metrics.py` and `telemetry.py` (from
  `request_stats.py`), `issues.py`, and `unsupported.py` (501 for Qdrant's routes not served).

Nothing here talks to Redis itself: the domain functions of `projections` do.
"""
