"""Load veille.yaml and its rule files into a `RuleSet`; every problem named with file, line, field and fix.

`load_rules(config_path)` is what the bot, `veille check-config` and `veille rules ...` call.
`RulesHolder` keeps the rules in force across reloads: a reload that fails keeps the last good
rules and returns the problems, so a typo saved in production never takes the rules down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.errors import ConfigError, ConfigProblem
from bot.workspace import Workspace, _dotted, _fix, _line_for, _lines_by_path, parse_workspace
from rules.compile import RuleSet, SourcedRules, compile_rules
from rules.conditions import Report
from rules.schema import RulesFile

logger = logging.getLogger(__name__)

EXAMPLES = Path(__file__).resolve().parent / "examples"
EXAMPLE_PREFIX = "example:"


@dataclass(slots=True)
class _Located:
    """A file's name and the line of every value in it."""

    file: str
    lines: dict[tuple[Any, ...], int]
    problems: list[ConfigProblem]

    def report(self, loc: tuple[object, ...], message: str) -> None:
        self.problems.append(ConfigProblem(self.file, _line_for(tuple(loc), self.lines), _dotted(tuple(loc)),
                                           message))


def _compose(text: str, file: str) -> tuple[Any, _Located]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError([ConfigProblem(file, line, "(yaml)", f"not valid YAML: {exc.problem or exc}")]) from None
    located = _Located(file, {}, [])
    if root is not None:
        _lines_by_path(root, (), located.lines, located.problems, file)
    return data, located


def parse_rules(text: str, file: str = "rules.yaml") -> SourcedRules:
    """Validate one rules file; raise one `ConfigError` listing every problem with its line."""
    data, located = _compose(text, file)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(file, 1, "(top level)", "expected a mapping (charter:, engagement:, ...)")])
    try:
        rules = RulesFile.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            located.report(loc, _fix(dict(error), RulesFile))
        rules = None
    if located.problems or rules is None:
        raise ConfigError(sorted(located.problems, key=lambda p: (p.line or 0, p.field)))
    return SourcedRules(file, rules, text)


def resolve(name: str, base: Path) -> Path:
    """A rules file named in veille.yaml: `example:NAME` is a shipped example, else a path relative to it."""
    if name.startswith(EXAMPLE_PREFIX):
        return EXAMPLES / name.removeprefix(EXAMPLE_PREFIX)
    path = Path(name).expanduser()
    return path if path.is_absolute() else base / path


def _read(path: Path, problems: list[ConfigProblem], *, referenced_from: str | None = None) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = f" (named in {referenced_from})" if referenced_from else ""
        problems.append(ConfigProblem(str(path), None, "(file)", f"not found{hint}; check the path, or use "
                                      f"{EXAMPLE_PREFIX}charter.fr.yaml for a shipped example"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(ConfigProblem(str(path), None, "(file)", f"cannot be read: {exc}"))
    return None


def load_rules(config_path: str | Path, *, replace: Sequence[str | Path] = ()) -> RuleSet:
    """Load veille.yaml and its rule files, validate and compile them; one `ConfigError` lists every problem.

    `replace`: edited files to use instead of the current ones (`veille rules test`): a workspace file
    (it has `brand:`) replaces veille.yaml; a rules file replaces the listed one with the same file name,
    or is added when none has it.
    """
    config_path = Path(config_path)
    problems: list[ConfigProblem] = []
    overrides: dict[str, Path] = {}
    for edited in map(Path, replace):
        text = _read(edited, problems)
        if text is None:
            continue
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            data = None  # parse_rules / parse_workspace will say where
        if isinstance(data, dict) and "brand" in data:
            config_path = edited
        else:
            overrides[edited.name] = edited
    if problems:
        raise ConfigError(problems)
    ws_text = _read(config_path, problems)
    if ws_text is None:
        if not config_path.exists():
            problems[-1] = ConfigProblem(str(config_path), None, "(file)",
                                         "not found; copy veille.example.yaml to it, or set VEILLE_CONFIG")
        raise ConfigError(problems)
    workspace = parse_workspace(ws_text, str(config_path))
    _, ws_located = _compose(ws_text, str(config_path))
    base = config_path.resolve().parent
    paths = [resolve(name, base) for name in workspace.rules_files]
    paths = [overrides.pop(p.name, p) for p in paths] + list(overrides.values())
    sources: list[SourcedRules] = []
    for path in paths:
        text = _read(path, problems, referenced_from=str(config_path))
        if text is None:
            continue
        try:
            sources.append(parse_rules(text, str(path)))
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    return compile_sourced(workspace, sources, ws_located, ws_text,
                           sources_paths=(str(config_path), *(str(p) for p in paths)))


def compile_sourced(workspace: Workspace, sources: list[SourcedRules], ws_located: _Located | None = None,
                    ws_text: str = "", *, sources_paths: tuple[str, ...] = ()) -> RuleSet:
    """Compile parsed files; raise one `ConfigError` with every cross-reference problem and its line."""
    ws = ws_located or _Located("veille.yaml", {}, [])
    located = {s.file: _compose(s.text, s.file)[1] if s.text else _Located(s.file, {}, []) for s in sources}

    def report_in(file: str) -> Report:
        return located[file].report

    ruleset = compile_rules(workspace, sources, ws.report, report_in, sources=sources_paths, workspace_text=ws_text)
    problems = ws.problems + [p for loc in located.values() for p in loc.problems]
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: (p.file, p.line or 0, p.field)))
    return ruleset


def rules_from_yaml(workspace_yaml: str, *rules_yaml: str) -> RuleSet:
    """Compile a workspace and rule files given as text (tests, examples in docs)."""
    workspace = parse_workspace(workspace_yaml, "veille.yaml")
    _, ws_located = _compose(workspace_yaml, "veille.yaml")
    sources = [parse_rules(text, f"rules{i}.yaml") for i, text in enumerate(rules_yaml, 1)]
    return compile_sourced(workspace, sources, ws_located, workspace_yaml)


def _fingerprint(paths: Sequence[str]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for name in paths:
        try:
            stat = Path(name).stat()
            out.append((name, stat.st_mtime_ns, stat.st_size))
        except OSError:
            out.append((name, -1, -1))
    return tuple(out)


class RulesHolder:
    """The rules in force. `reload()` swaps in new rules only when they are valid.

    The first load raises (the bot refuses to start on broken rules); later reloads never raise: they
    keep the last good rules and return the problems, for the admin who asked (`/veille reload`) or
    for the log (a file change noticed by `reload_if_changed`).
    """

    def __init__(self, config_path: str | Path) -> None:
        self.config_path = Path(config_path)
        self._lock = threading.Lock()
        self._current = load_rules(self.config_path)
        self._fingerprint = _fingerprint(self._current.sources)

    @property
    def current(self) -> RuleSet:
        return self._current

    def reload(self) -> list[ConfigProblem]:
        """Load the files again; on problems keep the current rules and return the problems ([] = reloaded)."""
        with self._lock:
            try:
                fresh = load_rules(self.config_path)
            except ConfigError as error:
                logger.warning("rules reload refused (%d problem(s)); keeping version %s", len(error.problems),
                               self._current.version)
                # Remember what was seen, so a broken file is reported once, not at every check.
                self._fingerprint = _fingerprint(self._current.sources)
                return error.problems
            self._current = fresh
            self._fingerprint = _fingerprint(fresh.sources)
            logger.info("rules reloaded: version %s (%s)", fresh.version, fresh.summary())
            return []

    def reload_if_changed(self) -> list[ConfigProblem] | None:
        """Reload when a file changed since the last (attempted) load; None when nothing changed."""
        if _fingerprint(self._current.sources) == self._fingerprint:
            return None
        return self.reload()
