import time

from gatelib import hub


def test_offline_switches_answer_at_once(monkeypatch):
    for variable in hub.OFFLINE_VARIABLES:
        monkeypatch.setenv(variable, "1")
        start = time.perf_counter()
        assert hub.hub_reachable() is False
        assert time.perf_counter() - start < 0.1
        monkeypatch.delenv(variable)


def test_unreachable_endpoint_answers_within_the_timeout(monkeypatch):
    for variable in hub.OFFLINE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    start = time.perf_counter()
    assert hub.hub_reachable(timeout=1.0) is False
    assert time.perf_counter() - start < 2.0
