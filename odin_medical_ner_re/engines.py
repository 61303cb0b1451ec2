"""The distributed engine (Ray), found at run time: an optional extra, never a hard dependency.

Why Ray and not Spark: the work is Python from end to end (the generator, ``datasets``,
torch), so Spark would add a JVM and ship every row through Python workers it starts itself,
while Ray schedules plain Python functions and actors, installs as one wheel
(``pip install 'odin-medical-ner-re[ray]'``), starts a local cluster inside a test with
``ray.init(num_cpus=2)`` and holds a model in an actor across shards. We schedule nothing
ourselves: Ray places the tasks, retries the failed ones and reports progress.

Every failure a user can meet here is one line: Ray not installed (exit 2, with the install
command) and a cluster address that does not answer (exit 1: checked with a plain TCP
connection first, because ``ray.init`` would otherwise retry for a minute and then print pages).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from .errors import EngineConnectionError, UserInputError

ENGINES: tuple[str, ...] = ("local", "ray")
INSTALL_HINT = "pip install 'odin-medical-ner-re[ray]' (or pip install ray)"
#: Seconds to wait for a cluster's head node to accept a connection.
CONNECT_TIMEOUT_S = 5.0
#: Environment a task needs to make the rows the driver would make (the knowledge base in use).
_TASK_ENVIRONMENT = ("ODIN_KNOWLEDGE_DIR",)


def import_ray() -> Any:
    """The ``ray`` module, or one user error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UserInputError(f"the ray engine is not installed: {INSTALL_HINT}") from None
    return ray


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (optionally ``ray://host:port``) as a pair, or a user error naming the address."""
    bare = address.removeprefix("ray://")
    host, _, port = bare.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserInputError(f"cluster address {address!r} is not HOST:PORT (for example 127.0.0.1:6379)")
    return host.strip("[]"), int(port)


def check_address(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Refuse, in one line, a cluster address where nothing accepts a connection."""
    host, port = split_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as err:
        reason = err.strerror or str(err) or type(err).__name__
        raise EngineConnectionError(
            f"Ray cluster at {address} does not answer ({reason}); start it with `ray start --head` "
            "or check the address and port"
        ) from None


def connect_ray(address: str | None = None) -> Any:
    """An initialised Ray: the one this process already joined, the cluster at ``address``, or a local one."""
    ray = import_ray()
    if address and address != "auto":
        check_address(address)
    if ray.is_initialized():
        return ray
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    except ConnectionError as err:
        raise EngineConnectionError(f"Ray cluster at {address or 'auto'} does not answer ({err})") from None
    return ray


def task_environment() -> dict[str, str | None]:
    """The driver's values of the variables that shape the rows (None: unset), for tasks to adopt."""
    return {name: os.environ.get(name) for name in _TASK_ENVIRONMENT}


def adopt_environment(environment: dict[str, str | None]) -> None:
    """Make a worker's environment match the driver's for the variables of :func:`task_environment`."""
    for name, value in environment.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
