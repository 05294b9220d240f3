"""Appends that wait for replicas (APPEND_REPLICAS): Redis replicates asynchronously, so an
append acknowledged by its server alone is lost if the server fails before a replica has it.
The append's script and a WAIT go out on one connection (WAIT waits for the writes of its own
connection), to the server holding the collection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis
from redis.commands.core import Script
from redis.exceptions import NoScriptError

from projections.errors import QdrantError
from projections.store import pool_of


@dataclass(frozen=True)
class Replication:
    """Appends wait (WAIT) until this many replicas have them, at most `timeout_ms`."""

    replicas: int
    timeout_ms: int

    def check(self, first_op: int, confirmed: int) -> None:
        """Raise NotReplicated when fewer replicas than asked (`confirmed`) have the append
        whose first operation is `first_op`."""
        if confirmed < self.replicas:
            raise NotReplicated(
                f"operation {first_op} is in the log, but {confirmed} of the"
                f" {self.replicas} replicas asked for (APPEND_REPLICAS) had it within"
                f" {self.timeout_ms} ms: it will be applied, and a failover before the replicas"
                " have it would lose it"
            )


class NotReplicated(QdrantError):
    http_status = 503
    prefix = "Service unavailable: "


def run_and_wait(
    r: redis.Redis, lua: Script, keys: list[str], args: list[Any], replicas: int, timeout_ms: int
) -> tuple[Any, int]:
    """Run the script, then WAIT until `replicas` replicas of its server have its writes (or
    the timeout passes): the script's reply, and how many replicas have them. One connection
    for both, taken from the pool of the server holding `keys[0]`, since WAIT waits for the
    writes of its own connection."""
    pool = pool_of(r, keys[0])
    connection = pool.get_connection()
    try:
        reply, confirmed = _sent_with_wait(
            connection, ("EVALSHA", lua.sha), keys, args, replicas, timeout_ms
        )
        if isinstance(reply, NoScriptError):  # the server lacks it: send the source this once
            source = ("EVAL", lua.script)
            reply, confirmed = _sent_with_wait(connection, source, keys, args, replicas, timeout_ms)
    except BaseException:
        connection.disconnect()
        raise
    finally:
        pool.release(connection)
    if isinstance(reply, redis.ResponseError):
        raise reply
    return reply, int(confirmed)


def _sent_with_wait(
    connection: redis.connection.Connection,
    call: tuple[str, Any],
    keys: list[str],
    args: list[Any],
    replicas: int,
    timeout_ms: int,
) -> tuple[Any, Any]:
    """Send the script's call and a WAIT in one write, then read both replies (a script's
    error reply is returned, not raised, so the WAIT's is still read)."""
    connection.send_packed_command(
        connection.pack_commands([(*call, len(keys), *keys, *args), ("WAIT", replicas, timeout_ms)])
    )
    try:
        reply: Any = connection.read_response()
    except redis.ResponseError as error:
        reply = error
    return reply, connection.read_response()
