"""Shared fixtures. Tests run offline: the Hub is never contacted."""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest  # noqa: E402

from lib import device_policy, model_loading  # noqa: E402


@pytest.fixture(scope="session")
def minilm() -> model_loading.Loaded:
    """The bundled MiniLM encoder with eager attention (returns attention weights)."""
    return model_loading.load("minilm", role="encoder", device="cpu", attentions=True)


@pytest.fixture(scope="session")
def smollm2() -> model_loading.Loaded:
    """The bundled SmolLM2-135M-Instruct causal decoder (eager attention: returns attention weights)."""
    return model_loading.load("smollm2-135m", role="decoder", device="cpu", attentions=True)


@pytest.fixture(autouse=True)
def no_first_screen_pause(monkeypatch):
    """AppTest has no browser to draw a first screen: a lesson need not pause for one."""
    from lessons.widgets import common

    monkeypatch.setattr(common, "FIRST_SCREEN_PAUSE_S", 0)


@pytest.fixture
def open_page():
    """open_page(key, query={...}) -> an AppTest of the whole app, switched to
    that lesson (opened with those URL query parameters) and run."""
    from streamlit.testing.v1 import AppTest

    from lib import course

    def _open(key: str = "home", timeout: float = 120, query: dict | None = None) -> AppTest:
        at = AppTest.from_file(str(course.ROOT / "streamlit_app.py"), default_timeout=timeout)
        at.run()
        at.query_params.update(query or {})
        if key != "home" or query:
            at.switch_page(course.lesson(key).page).run()
        return at

    return _open


@pytest.fixture
def one_cpu_thread():
    """Tiny models train far faster on one thread, above all on a shared, loaded CPU."""
    with device_policy.cpu_threads("cpu"):
        yield
