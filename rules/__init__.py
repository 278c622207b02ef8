"""The rules engines: the charter, engagement rules and routing, written in YAML, applied alike to every item.

    schema.py         the YAML schema (pydantic): clauses, conditions, engagement rules, responsibilities
    loader.py         load_rules(config) -> RuleSet, parse_rules, RulesHolder (reload keeps the last good rules)
    compile.py        RuleSet.evaluate(ItemContext, now=, assignment=, campaigns=) -> Decision
    match.py          normalization (l33t, accents, homoglyphs, separators), phrase and fuzzy indexes
    charter.py        violations with their spans; personal-data and spam detectors
    campaign.py       coordinated campaigns: a bounded sliding window of recent texts
    impersonation.py  authors whose handle or name copies the brand's
    conditions.py     compiled conditions, plans, schedules
    routing.py        Route, AssignmentState, owners in turn or by load, reassignment
    engagement.py     tasks with deadlines, replies, consistency, nudges and escalations
    cli.py            `veille rules explain` and `veille rules test`

Nothing is imported here: `bot.workspace` imports `rules.schema`, and that must stay light.
"""
