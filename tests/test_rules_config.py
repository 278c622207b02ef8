"""Rules config: errors name the file, the line, the field and the fix; reloads keep the last good rules."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bot.errors import ConfigError
from rules.loader import EXAMPLES, RulesHolder, load_rules, parse_rules, rules_from_yaml

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE = """\
brand: {name: Maison Lumen, language: fr, timezone: Europe/Paris}
admins: [U0ADMIN]
channels: {triage: C0TRIAGE}
fallback_owner: U0CM1
"""
RULES = """\
charter:
  clauses:
    - id: insults
      title: Insultes
      wording: Pas d'insultes.
      action: hide
      terms: [connard]
engagement:
  - id: thank
    title: Merci
    when: {sentiment: positive}
    action: thank
    within: 24h
    template: thanks
templates:
  thanks:
    fr: ["Merci {author} !"]
"""


def problems(workspace: str = WORKSPACE, *rules: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        rules_from_yaml(workspace, *(rules or (RULES,)))
    return [str(p) for p in caught.value.problems]


class TestRulesFileErrors:
    def test_an_unknown_field_names_its_line_and_suggests_the_right_one(self) -> None:
        assert problems(WORKSPACE, RULES.replace("      terms:", "      termz:")) == [
            "rules1.yaml:7: charter.clauses[0].termz: unknown field; did you mean 'terms'?"]

    def test_nested_conditions_are_checked_too(self) -> None:
        [problem] = problems(WORKSPACE, RULES.replace("{sentiment: positive}", "{any: [{sentimnt: positive}]}"))
        assert problem == "rules1.yaml:11: engagement[0].when.any[0].sentimnt: unknown field; did you mean 'sentiment'?"

    def test_a_bad_value_says_what_is_allowed(self) -> None:
        [problem] = problems(WORKSPACE, RULES.replace("action: thank", "action: thnak"))
        assert problem.startswith("rules1.yaml:12: engagement[0].action: Input should be 'thank', 'reply'")

    def test_a_deadline_is_required_and_durations_are_readable(self) -> None:
        [missing] = problems(WORKSPACE, RULES.replace("    within: 24h\n", ""))
        assert missing.startswith("rules1.yaml:9: engagement[0]: action 'thank' needs a deadline; add within:")
        [bad] = problems(WORKSPACE, RULES.replace("within: 24h", "within: tomorrow"))
        assert bad == ("rules1.yaml:13: engagement[0].within: 'tomorrow' is not a duration; write it like 30m, "
                       "2h, 1h30m or 7d")

    def test_a_regex_that_does_not_compile_is_refused_at_load(self) -> None:
        [problem] = problems(WORKSPACE, RULES.replace("terms: [connard]", 'regex: ["(unclosed"]'))
        assert problem.startswith("rules1.yaml:7: charter.clauses[0].regex[0]: not a valid regular expression")

    def test_references_must_exist(self) -> None:
        text = (RULES.replace("template: thanks", "template: thank-you")
                .replace("{sentiment: positive}", "{violation: [insult], tiers: [giga]}")
                .replace("    action: thank\n", "    action: thank\n    during: week-ends\n"))
        assert problems(WORKSPACE, text) == [
            "rules1.yaml:11: engagement[0].when.tiers: unknown influencer tier 'giga'; tiers are micro, macro, mega",
            "rules1.yaml:11: engagement[0].when.violation: unknown charter clause 'insult'; clauses are insults",
            "rules1.yaml:13: engagement[0].during: unknown schedule 'week-ends'; define it under schedules: (none yet)",
            "rules1.yaml:15: engagement[0].template: unknown template 'thank-you'; define it under templates: (thanks)",
        ]

    def test_unknown_template_placeholders_are_refused(self) -> None:
        assert problems(WORKSPACE, RULES.replace("Merci {author} !", "Merci {auteur} !")) == [
            "rules1.yaml:17: templates.thanks.fr[0]: unknown placeholder {auteur}; use {author}, {name}, {brand}, "
            "{charter_link}"]

    def test_ids_are_unique_across_files(self) -> None:
        found = problems(WORKSPACE, RULES, RULES.replace("Merci {author}", "Merci"))
        assert "rules2.yaml:3: charter.clauses[0].id: clause id 'insults' is used twice; ids must be unique across " \
               "rule files" in found
        assert any(p.startswith("rules2.yaml:9: engagement[0].id: rule id 'thank' is used twice") for p in found)

    def test_a_term_with_nothing_to_match_is_refused(self) -> None:
        [problem] = problems(WORKSPACE, RULES.replace("terms: [connard]", 'terms: [connard, "🤬🤬"]'))
        assert problem == "rules1.yaml:7: charter.clauses[0].terms[1]: term '🤬🤬' has no letters or digits to " \
                          "match; remove it"

    def test_bad_yaml_names_the_line(self) -> None:
        with pytest.raises(ConfigError) as caught:
            parse_rules("charter:\n  clauses: [\n", "rules.yaml")
        assert str(caught.value).startswith("rules.yaml:3: (yaml): not valid YAML")


class TestWorkspaceRoutingErrors:
    def test_responsibility_conditions_and_references_are_checked_with_lines(self) -> None:
        workspace = WORKSPACE + """\
responsibilities:
  - name: support
    owners: [U0SUP1, bob]
    channel: "#support"
    keywords: [livraison]
    outside: business-hours
    networks: [instagarm]
"""
        found = problems(workspace, RULES)
        assert found[0] == "veille.yaml:7: responsibilities[0].owners[1]: 'bob' is not a Slack user or user group " \
                           "id (like U0123ABCD or S0123ABCD)"
        assert found[1].startswith("veille.yaml:8: responsibilities[0].channel: '#support' is not a channel id")
        assert found[2] == "veille.yaml:11: responsibilities[0].networks[0]: unknown network 'instagarm'; expected " \
                           "one of x, facebook, instagram, linkedin, youtube, mastodon, bluesky, reddit, rss"

    def test_a_schedule_named_by_a_responsibility_must_exist(self) -> None:
        workspace = WORKSPACE + "responsibilities:\n  - {name: night, owners: [U0N], outside: business-hours}\n"
        assert problems(workspace, RULES) == [
            "veille.yaml:6: responsibilities[0].outside: unknown schedule 'business-hours'; define it under "
            "schedules: (none yet)"]

    def test_schedules_and_tiers_are_validated(self) -> None:
        workspace = WORKSPACE + """\
schedules:
  office: {days: [mon, fri], hours: "9h-18h"}
influencers:
  tiers: {macro: 100000, micro: 10000}
"""
        found = problems(workspace, RULES)
        assert found[0] == "veille.yaml:6: schedules.office.hours: '9h-18h' is not an hours range; write it like " \
                           "09:00-18:00"
        assert found[1].startswith("veille.yaml:8: influencers.tiers: tiers must list growing")
        assert len(found) == 2


class TestFiles:
    def write(self, tmp_path: Path, rules_files: str, **files: str) -> Path:
        config = tmp_path / "veille.yaml"
        config.write_text(WORKSPACE + f"rules_files: {rules_files}\n", encoding="utf-8")
        for name, text in files.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        return config

    def test_rule_files_are_relative_to_the_config_and_examples_ship(self, tmp_path: Path) -> None:
        config = self.write(tmp_path, "[mine.yaml, example:charter.en.yaml]",
                            **{"mine.yaml": RULES.replace("id: insults", "id: my-insults")})
        ruleset = load_rules(config)
        assert ruleset.summary() == "7 clauses, 1 engagement rule, 0 responsibilities"
        assert ruleset.sources == (str(config), str(tmp_path / "mine.yaml"), str(EXAMPLES / "charter.en.yaml"))

    def test_a_missing_rules_file_is_named_with_the_config_that_names_it(self, tmp_path: Path) -> None:
        config = self.write(tmp_path, "[nope.yaml]")
        with pytest.raises(ConfigError) as caught:
            load_rules(config)
        assert str(caught.value).startswith(f"{tmp_path / 'nope.yaml'}: (file): not found (named in {config})")

    def test_every_file_is_checked_in_one_go(self, tmp_path: Path) -> None:
        config = self.write(tmp_path, "[a.yaml, b.yaml]", **{"a.yaml": "charter: {clauses: [{id: X}]}\n",
                                                           "b.yaml": "engagment: []\n"})
        with pytest.raises(ConfigError) as caught:
            load_rules(config)
        files = {Path(p.file).name for p in caught.value.problems}
        assert files == {"a.yaml", "b.yaml"}

    def test_shipped_configs_and_examples_are_valid(self) -> None:
        assert load_rules(ROOT / "veille.example.yaml").summary() == ("12 clauses, 10 engagement rules, "
                                                                     "5 responsibilities")
        assert load_rules(ROOT / "bot" / "demo" / "demo.yaml").summary().startswith("12 clauses, 10 engagement")
        for path in sorted(EXAMPLES.glob("*.yaml")):
            parse_rules(path.read_text(encoding="utf-8"), str(path))


class TestReload:
    def test_a_broken_reload_keeps_the_last_good_rules_and_says_why(self, tmp_path: Path) -> None:
        config = tmp_path / "veille.yaml"
        rules = tmp_path / "rules.yaml"
        config.write_text(WORKSPACE + "rules_files: [rules.yaml]\n", encoding="utf-8")
        rules.write_text(RULES, encoding="utf-8")
        holder = RulesHolder(config)
        good = holder.current
        assert holder.reload_if_changed() is None  # nothing changed
        rules.write_text(RULES.replace("within: 24h", "within: soon"), encoding="utf-8")
        bump(rules)
        found = holder.reload_if_changed()
        assert found and "within: 'soon' is not a duration" in str(found[0])
        assert holder.current is good
        assert holder.reload_if_changed() is None  # the broken file is reported once, not at every check
        rules.write_text(RULES.replace("within: 24h", "within: 12h"), encoding="utf-8")
        bump(rules)
        assert holder.reload() == [] and holder.current is not good
        assert holder.current.engagement.rules[0].within.total_seconds() == 12 * 3600  # type: ignore[union-attr]

    def test_the_first_load_refuses_broken_rules(self, tmp_path: Path) -> None:
        config = tmp_path / "veille.yaml"
        config.write_text(WORKSPACE + "rules_files: [rules.yaml]\n", encoding="utf-8")
        (tmp_path / "rules.yaml").write_text("charter: {clauses: [{id: x}]}\n", encoding="utf-8")
        with pytest.raises(ConfigError):
            RulesHolder(config)


def bump(path: Path) -> None:
    """Make a rewrite visible to mtime checks even on coarse-grained file systems."""
    later = time.time() + 5
    os.utime(path, (later, later))
