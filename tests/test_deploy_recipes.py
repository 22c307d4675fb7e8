"""The hosting recipes in deploy/: HAProxy's config, the Dockerfile, the Kubernetes
manifests and the one install script they share with `make setup` (Docker and a
cluster cannot run here; what can be checked without them is checked)."""
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from lib import course

DEPLOY = course.ROOT / "deploy"
HEALTH = "/_stcore/health"
sys.path.insert(0, str(DEPLOY))
import serve  # noqa: E402


@pytest.fixture(scope="module")
def manifests() -> dict[str, dict]:
    documents = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "glassbox.yaml").read_text()))
    return {doc["kind"]: doc for doc in documents}


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (DEPLOY / "Dockerfile").read_text()


def test_the_manifests_parse_and_hold_a_deployment_a_service_and_an_ingress(manifests):
    assert set(manifests) == {"Deployment", "Service", "Ingress"}
    deployment = manifests["Deployment"]
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["selector"]["matchLabels"] == deployment["spec"]["template"]["metadata"]["labels"]
    assert manifests["Service"]["spec"]["selector"] == deployment["spec"]["template"]["metadata"]["labels"]


def test_the_pods_run_the_image_built_here_and_probe_the_health_endpoint(manifests, dockerfile):
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    tag = re.search(r"docker build -f deploy/Dockerfile -t (\S+) \.", dockerfile).group(1)
    assert container["image"].split(":")[0] == tag
    assert f"docker build -f deploy/Dockerfile -t {tag} ." in (course.ROOT / "README.md").read_text()
    port = container["ports"][0]["containerPort"]
    assert f"EXPOSE {port}" in dockerfile and f"--server.port={port}" in container["command"]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["path"] == HEALTH
        assert container[probe]["httpGet"]["port"] == container["ports"][0]["name"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    memory = container["resources"]["requests"]["memory"]
    assert re.fullmatch(r"\d+(\.\d+)?Gi", memory) and float(memory[:-2]) >= 1.5  # above one replica's measured RSS


def test_the_ingress_keeps_a_student_on_one_pod_and_routes_to_the_service(manifests):
    ingress = manifests["Ingress"]
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600  # websockets stay open
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == manifests["Service"]["metadata"]["name"]
    assert backend["port"]["name"] in {p["name"] for p in manifests["Service"]["spec"]["ports"]}


def test_the_dockerfile_installs_with_the_script_make_setup_runs(dockerfile):
    makefile = (course.ROOT / "Makefile").read_text()
    assert "RUN deploy/install.sh all" in dockerfile
    # make setup runs `packages` and each of the steps that `models` (hence the image's `all`) runs
    assert all(f"deploy/install.sh {step}" in makefile for step in ("packages", "smollm2", "sentiment"))
    assert "download.pytorch.org/whl/cpu" in dockerfile  # CPU torch
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    healthcheck = dockerfile[dockerfile.index("HEALTHCHECK"):]
    assert HEALTH in healthcheck.split("\nCMD", 1)[0] or HEALTH in healthcheck
    assert "deploy/serve.py" in dockerfile.splitlines()[-1]


def test_the_install_script_runs_its_steps_in_order(tmp_path):
    """deploy/install.sh against a stand-in python that records what it is asked to do."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    log = tmp_path / "calls"
    fake = venv / "bin" / "python"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    fake.chmod(0o755)
    env = {**os.environ, "VENV": str(venv), "GLASSBOX_TORCH_INDEX": "https://example.invalid/cpu", "GLASSBOX_DEV": "0"}
    subprocess.run([DEPLOY / "install.sh"], env=env, check=True, cwd=tmp_path)
    calls = log.read_text().splitlines()
    torch_pin = next(line for line in (course.ROOT / "requirements.txt").read_text().splitlines()
                     if line.startswith("torch=="))
    assert calls == ["-m pip install --quiet --upgrade pip",
                     f"-m pip install --quiet --index-url https://example.invalid/cpu {torch_pin}",
                     f"-m pip install --quiet -r {venv}/requirements-pypi.txt",
                     "-m pip install --quiet --no-deps -r requirements-nodeps.txt",
                     "-m lib.smollm2_conversion",
                     "-m lib.minilm_sentiment"]
    assert "--extra-index-url" not in (venv / "requirements-pypi.txt").read_text()
    log.unlink()
    subprocess.run([DEPLOY / "install.sh", "packages"], env={**env, "GLASSBOX_DEV": "1", "GLASSBOX_TORCH_INDEX": ""},
                   check=True)
    assert log.read_text().splitlines()[-1] == "-m pip install --quiet -r requirements-dev.txt"
    assert subprocess.run([DEPLOY / "install.sh", "everything"], env=env, capture_output=True).returncode == 2


def test_the_haproxy_config_renders_one_server_per_replica():
    config = serve.render_config((DEPLOY / "haproxy.cfg").read_text(), [9101, 9102, 9103])
    servers = re.findall(r"^\s+server (app\d) 127\.0\.0\.1:(\d+) cookie (app\d)$", config, re.M)
    assert servers == [("app1", "9101", "app1"), ("app2", "9102", "app2"), ("app3", "9103", "app3")]
    assert serve.REPLICAS_MARK.strip() not in [line.strip()[:len(serve.REPLICAS_MARK) - 1] for line in config.splitlines()]
    assert f"uri {HEALTH}" in config and "cookie GLASSBOX_REPLICA insert" in config
    assert re.search(r"^\s+timeout tunnel (\d+)h$", config, re.M)


@pytest.mark.skipif(not shutil.which("haproxy") and not os.path.exists(serve.HAPROXY), reason="no HAProxy")
def test_haproxy_accepts_the_rendered_config(tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text(serve.render_config((DEPLOY / "haproxy.cfg").read_text(), [9101, 9102]))
    env = {**os.environ, "GLASSBOX_BIND": "127.0.0.1", "GLASSBOX_PORT": "9100", "GLASSBOX_STATS_PORT": "9200"}
    check = subprocess.run([serve.HAPROXY, "-c", "-f", str(path)], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_make_serve_without_haproxy_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(serve, "HAPROXY", str(tmp_path / "haproxy"))  # a path with nothing there
    with pytest.raises(SystemExit, match=r"HAProxy is not installed .*apt-get install haproxy"):
        serve.Supervisor(serve.parse_args(["--replicas", "1"]))
