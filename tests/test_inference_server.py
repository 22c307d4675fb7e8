"""lib/inference_server against a stand-in OpenAI-compatible server (the shapes of
llama.cpp's llama-server and vLLM replies); the pipelines page sending its text
generation there is tested in test_page_pipelines.py with the same stand-in."""
import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from lib import inference_server, pipelines


class OpenAIStandIn(BaseHTTPRequestHandler):
    seen: list = []
    status = 200

    def do_POST(self):  # noqa: N802 - the http.server name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        OpenAIStandIn.seen.append((self.path, self.headers.get("Authorization"), body))
        if self.path.endswith("/chat/completions"):
            words = body["messages"][-1]["content"].split()
            reply = {"choices": [{"message": {"role": "assistant", "content": f" served summary of {len(words)} words "}}]}
        elif self.path.endswith("/completions"):
            reply = {"choices": [{"text": f" and the server continued '{body['prompt']}'"}]}
        else:
            reply = {"error": "no such endpoint"}
        self.send_response(self.status if "choices" in reply else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(reply).encode())

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serving_stand_in():
    """The stand-in on a free port; its API base URL."""
    server = HTTPServer(("127.0.0.1", 0), OpenAIStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    OpenAIStandIn.seen, OpenAIStandIn.status = [], 200
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()


@pytest.fixture
def stand_in():
    with serving_stand_in() as url:
        yield url


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_nothing_is_configured_without_the_url():
    assert inference_server.configured({}) is None
    assert inference_server.configured({"GLASSBOX_INFERENCE_URL": "  ", "GLASSBOX_INFERENCE_MODEL": "x"}) is None


def test_the_settings_come_from_the_environment():
    server = inference_server.configured({"GLASSBOX_INFERENCE_URL": "http://gpu-box:8080/v1/chat/completions",
                                          "GLASSBOX_INFERENCE_KEY": "k"})
    assert server == inference_server.Server("http://gpu-box:8080/v1", inference_server.DEFAULT_MODEL, "k")
    assert inference_server.api_base("https://h/v1/") == "https://h/v1"
    assert inference_server.api_base("https://h/v1/completions") == "https://h/v1"
    with pytest.raises(inference_server.ServerError, match="not an http"):
        inference_server.configured({"GLASSBOX_INFERENCE_URL": "gpu-box:8080"})


def test_chat_and_plain_continuation_reach_their_endpoints(stand_in):
    server = inference_server.Server(stand_in, "smol", api_key="secret")
    assert inference_server.chat(server, [{"role": "user", "content": "one two three"}], 7) == \
        " served summary of 3 words "
    assert inference_server.continue_text(server, "Once upon a time", 9, temperature=0.7, seed=3) == \
        " and the server continued 'Once upon a time'"
    (chat_path, auth, chat_body), (text_path, _, text_body) = OpenAIStandIn.seen
    assert chat_path == "/v1/chat/completions" and auth == "Bearer secret"
    assert chat_body == {"model": "smol", "messages": [{"role": "user", "content": "one two three"}],
                         "max_tokens": 7, "temperature": 0.0}
    assert text_path == "/v1/completions"
    assert text_body == {"model": "smol", "prompt": "Once upon a time", "max_tokens": 9, "temperature": 0.7, "seed": 3}


def test_the_summary_request_is_the_local_one(stand_in):
    server = inference_server.Server(stand_in)
    text = "The council met on Tuesday."
    assert pipelines.summarize_on(server, text) == f"served summary of {len((pipelines.SUMMARY_INSTRUCTION + text).split())} words"
    assert OpenAIStandIn.seen[0][2]["max_tokens"] == pipelines.SUMMARY_TOKENS


def test_failures_say_why(stand_in):
    with pytest.raises(inference_server.ServerError, match="cannot be reached"):
        inference_server.chat(inference_server.Server(f"http://127.0.0.1:{closed_port()}/v1", timeout=5), [], 1)
    OpenAIStandIn.status = 503
    with pytest.raises(inference_server.ServerError, match="HTTP 503"):
        inference_server.continue_text(inference_server.Server(stand_in), "x", 1)
    with pytest.raises(inference_server.ServerError, match="HTTP 404"):
        inference_server.post(inference_server.Server(stand_in), "/embeddings", {})


def test_a_reply_that_is_not_openai_style_is_refused(stand_in, monkeypatch):
    monkeypatch.setattr(inference_server, "post", lambda *args: b'{"choices": [{"message": {"content": null}}]}')
    with pytest.raises(inference_server.ServerError, match="OpenAI-style"):
        inference_server.chat(inference_server.Server(stand_in), [], 1)
    monkeypatch.setattr(inference_server, "post", lambda *args: b"<html>busy</html>")
    with pytest.raises(inference_server.ServerError, match="OpenAI-style"):
        inference_server.continue_text(inference_server.Server(stand_in), "x", 1)
