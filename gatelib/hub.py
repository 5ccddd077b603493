"""Is the Hugging Face Hub reachable? One answer per process for models and datasets alike.

The paper profile loads its base models and datasets from the Hub (GATE §3.1, §4.1); offline,
every Hub load must fail within seconds and name the bundled alternative instead of hanging
on retries. ``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` / ``HF_DATASETS_OFFLINE`` decide at
once; otherwise one TCP connect to the Hub (``HF_ENDPOINT`` or huggingface.co), DNS included,
bounded by ``timeout`` seconds.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
from urllib.parse import urlparse

OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")


def offline_by_environment() -> bool:
    """True if one of the Hugging Face offline switches is set."""
    return any(os.environ.get(v, "").strip().lower() in {"1", "true", "yes", "on"} for v in OFFLINE_VARIABLES)


@functools.lru_cache(maxsize=None)
def _tcp_reachable(host: str, port: int, timeout: float) -> bool:
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, name="gatelib-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result and result[0])


def hub_reachable(timeout: float = 3.0) -> bool:
    """False when offline by environment, else whether the Hub accepts a TCP connection."""
    if offline_by_environment():
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host = url.hostname or "huggingface.co"
    port = url.port or (80 if url.scheme == "http" else 443)
    return _tcp_reachable(host, port, timeout)
