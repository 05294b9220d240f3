"""The worker processes: they apply each collection's log to its projection.

- `jobs.py`: the RQ job queued through `projections.jobs`: a trigger meaning "catch C up";
- `catchup.py`: applying and following one collection's log under its lease (`lease.py`),
  the kick-flag protocol that leaves no write behind, and the sweep for collections left
  behind; each batch is applied by `projections.apply` in one atomic commit;
- `process.py`: the worker process (RQ `SimpleWorker` plus the sweep thread, and the
  archiving thread of `archiver.py` when an archive is configured);
- `replay.py`: rebuilding a projection from the log, or verifying one against it;
- `cli.py` and `embedded.py`: the `pointlog` command and the embedded server of `pointlog up`.
"""
