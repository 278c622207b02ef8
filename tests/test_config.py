"""The workspace config: a broken veille.yaml is refused with file, line, field and fix; good ones load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import Settings
from bot.workspace import load_workspace, parse_workspace

ROOT = Path(__file__).resolve().parents[1]
GOOD = """\
brand:
  name: Maison Lumen
admins: [U0ADMIN]
channels:
  triage: C0TRIAGE
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_workspace(text, "veille.yaml")
    return [str(p) for p in caught.value.problems]


class TestBrokenConfig:
    def test_bad_yaml_names_the_file_and_a_line(self) -> None:
        [problem] = problems(GOOD + "sources:\n  - name: [unclosed\n")
        assert problem.startswith("veille.yaml:8: (yaml): not valid YAML")

    def test_bad_yaml_line_is_where_the_problem_is(self) -> None:
        [problem] = problems("brand:\n  name: X\n  bad: : :\nadmins: [U0A]\n")
        assert problem.startswith("veille.yaml:3:") and "not valid YAML" in problem

    def test_an_unknown_field_names_its_line_and_suggests_the_right_one(self) -> None:
        text = GOOD.replace("  name: Maison Lumen\n", "  name: Maison Lumen\n  timezon: Europe/Paris\n")
        assert problems(text) == ["veille.yaml:3: brand.timezon: unknown field; did you mean 'timezone'?"]

    def test_a_wrong_type_names_its_line_and_field(self) -> None:
        text = GOOD + "sources:\n  - name: main\n    type: x\n    poll_every_s: often\n"
        [problem] = problems(text)
        assert problem.startswith("veille.yaml:9: sources[0].poll_every_s:") and "integer" in problem

    def test_every_problem_is_reported_at_once(self) -> None:
        text = "brand:\n  name: X\n  language: de\nadmins: [bob]\nchannels:\n  triage: '#general'\n"
        found = problems(text)
        assert [p.split(":")[1] for p in found] == ["3", "4", "6"]
        assert "Slack user id" in found[1] and "channel id" in found[2]

    def test_a_missing_section_says_to_add_it(self) -> None:
        assert problems("brand:\n  name: X\nadmins: [U0A]\n") == [
            "veille.yaml:1: channels: required field is missing; add it"]

    def test_duplicate_keys_are_not_silently_dropped(self) -> None:
        found = problems(GOOD + "admins: [U0OTHER]\n")
        assert any("duplicate key" in p and p.startswith("veille.yaml:6:") for p in found)

    def test_an_unknown_time_zone_is_refused(self) -> None:
        [problem] = problems(GOOD.replace("  name: Maison Lumen\n", "  name: M\n  timezone: Paris/France\n"))
        assert "unknown time zone 'Paris/France'" in problem

    def test_a_missing_file_says_how_to_create_it(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError) as caught:
            load_workspace(tmp_path / "nope.yaml")
        assert "copy veille.example.yaml" in str(caught.value)


class TestShippedConfigs:
    def test_the_documented_example_is_valid(self) -> None:
        workspace = load_workspace(ROOT / "veille.example.yaml")
        assert workspace.brand.language == "fr" and workspace.channels.triage == "C0TRIAGE"

    def test_the_demo_config_is_valid(self) -> None:
        from bot.console.demo import demo_workspace

        assert demo_workspace().brand.name == "Maison Lumen"


class TestSettings:
    def test_settings_come_from_the_environment_and_hide_tokens(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-123-secret")
        monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
        monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        assert settings.slack_api_url == "http://127.0.0.1:9/api/" and settings.database_url == "sqlite:///x.db"
        assert "xoxb-123-secret" not in repr(settings)

    def test_defaults(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        for name in ("DATABASE_URL", "VEILLE_CONFIG", "SLACK_API_URL"):
            monkeypatch.delenv(name, raising=False)
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        assert (settings.database_url, settings.veille_config) == ("sqlite:///veille.db", "veille.yaml")
        assert settings.slack_api_url == "https://slack.com/api/"

    def test_missing_slack_credentials_are_named(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
        monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
        with pytest.raises(ConfigError) as caught:
            Settings(_env_file=None).require_slack()  # type: ignore[call-arg]
        assert {p.field for p in caught.value.problems} == {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"}


class TestCli:
    def run(self, *args: str, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=120,
                              env=env, cwd=cwd)

    def test_check_config_refuses_a_broken_file_with_exit_code_2(self, tmp_path: Path) -> None:
        path = tmp_path / "veille.yaml"
        path.write_text(GOOD + "sorces: []\n", encoding="utf-8")
        result = self.run("check-config", str(path))
        assert result.returncode == 2
        assert f"{path}:6: sorces: unknown field; did you mean 'sources'?" in result.stderr

    def test_check_config_accepts_the_example(self) -> None:
        result = self.run("check-config", str(ROOT / "veille.example.yaml"))
        assert result.returncode == 0 and "OK" in result.stdout

    def test_run_refuses_to_start_on_a_broken_config(self, tmp_path: Path) -> None:
        (tmp_path / "veille.yaml").write_text("brand: {name: X}\n", encoding="utf-8")
        env = {"PATH": "/usr/bin:/bin", "VEILLE_CONFIG": str(tmp_path / "veille.yaml"),
               "DATABASE_URL": f"sqlite:///{tmp_path / 'v.db'}"}
        result = self.run("run", "--port", "0", env=env, cwd=tmp_path)
        assert result.returncode == 2 and "channels: required field is missing" in result.stderr

    def test_db_upgrade_then_downgrade(self, tmp_path: Path) -> None:
        env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'v.db'}"}
        up = self.run("db", "upgrade", env=env, cwd=tmp_path)
        from bot.migrate import head_revision

        assert up.returncode == 0 and f"database at revision {head_revision()} " in up.stdout
        down = self.run("db", "downgrade", env=env, cwd=tmp_path)
        assert down.returncode == 0 and "(empty)" in down.stdout
