"""An OpenAI-compatible inference server (llama.cpp's llama-server, vLLM, Ollama): the
one client Glassbox has for sending text generation off its own processes.

A deployment names one with environment variables; without GLASSBOX_INFERENCE_URL
nothing changes and every lesson generates with its own SmolLM2:

    GLASSBOX_INFERENCE_URL    http://host:8080/v1 (or …/v1/chat/completions)
    GLASSBOX_INFERENCE_MODEL  the model name the server answers to (default below)
    GLASSBOX_INFERENCE_KEY    a bearer token, when the server wants one

`chat` posts to /chat/completions (a conversation: summaries, minutes); `continue_text`
posts to /completions (the prompt continued as it is, as the text-generation pipeline
does). Both wait for the whole reply; errors become ServerError with a reason to show."""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Mapping

DEFAULT_MODEL = "SmolLM2-135M-Instruct"


class ServerError(RuntimeError):
    """The inference server could not be used; the message says why."""


@dataclass(frozen=True)
class Server:
    url: str  # the API's base, …/v1
    model: str = DEFAULT_MODEL
    api_key: str = ""
    timeout: float = 120


def configured(environ: Mapping[str, str] = os.environ) -> Server | None:
    """The server this deployment names, or None."""
    url = environ.get("GLASSBOX_INFERENCE_URL", "").strip()
    if not url:
        return None
    return Server(api_base(url), environ.get("GLASSBOX_INFERENCE_MODEL", "").strip() or DEFAULT_MODEL,
                  environ.get("GLASSBOX_INFERENCE_KEY", "").strip())


def api_base(url: str) -> str:
    """https://host/v1, …/v1/ or …/v1/chat/completions → https://host/v1."""
    base = url.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ServerError(f"'{url[:80]}' is not an http(s) URL.")
    for endpoint in ("/chat/completions", "/completions"):
        base = base.removesuffix(endpoint)
    return base


def chat_url(base_url: str) -> str:
    return api_base(base_url) + "/chat/completions"


def chat(server: Server, messages: list[dict], max_tokens: int, temperature: float = 0.0) -> str:
    """The assistant's reply to `messages`."""
    reply = post(server, "/chat/completions", {"messages": messages, "max_tokens": max_tokens,
                                                "temperature": temperature})
    return answer(reply, lambda choice: choice["message"]["content"], server)


def continue_text(server: Server, prompt: str, max_tokens: int, temperature: float = 0.0, seed: int = 0) -> str:
    """The text the model writes after `prompt` (no chat template)."""
    reply = post(server, "/completions", {"prompt": prompt, "max_tokens": max_tokens,
                                          "temperature": temperature, "seed": seed})
    return answer(reply, lambda choice: choice["text"], server)


def post(server: Server, endpoint: str, body: dict) -> bytes:
    url = api_base(server.url) + endpoint
    headers = {"Content-Type": "application/json"}
    if server.api_key:
        headers["Authorization"] = f"Bearer {server.api_key}"
    request = urllib.request.Request(url, data=json.dumps({"model": server.model, **body}).encode(),
                                     headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=server.timeout) as response:
            return response.read()
    except urllib.error.HTTPError as err:
        raise ServerError(f"The server at {url} answered HTTP {err.code} ({err.reason}).") from err
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise ServerError(f"The server at {url} cannot be reached ({reason}).") from err


def answer(raw: bytes, pick, server: Server) -> str:
    try:
        text = pick(json.loads(raw)["choices"][0])
        if not isinstance(text, str):
            raise TypeError(f"{type(text).__name__} instead of text")
        return text
    except (ValueError, KeyError, IndexError, TypeError) as err:
        raise ServerError(f"The server at {server.url} did not send an OpenAI-style reply "
                          f"({type(err).__name__}: {raw[:80]!r}).") from err
