"""The `veille` command line: run the bot, play the demo, migrate the database, check the config.

This is the only place that reads the environment, configures logging and turns errors into exit codes.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from bot.errors import ConfigError

logger = logging.getLogger("veille")

EXIT_CONFIG = 2


def _configure_logging(level: str, command: str) -> None:
    """JSON lines for `veille run` (log shippers parse them), text elsewhere, unless LOG_FORMAT says; no tokens."""
    from bot.logging_setup import configure
    from bot.settings import Settings

    settings = Settings()
    secrets = [s.get_secret_value() for s in (settings.slack_bot_token, settings.slack_signing_secret,
                                              settings.slack_app_token) if s is not None]
    configure(level, settings.log_format or ("json" if command == "run" else "text"), secrets)


def _print_config_error(error: ConfigError) -> None:
    print("Veille cannot start: the configuration has problems.", file=sys.stderr)
    for problem in error.problems:
        print(f"  {problem}", file=sys.stderr)


def cmd_check_config(args: argparse.Namespace) -> int:
    from bot.settings import Settings
    from bot.workspace import load_workspace

    path = args.path or Settings().veille_config
    workspace = load_workspace(path)
    from monitors.sources import build_source

    for source in workspace.sources:
        if source.enabled:
            build_source(source, config_file=str(path), brand=workspace.brand)
    from monitors.roi_webhook import roi_hooks_from_config

    roi_hooks_from_config(workspace.roi, config_file=str(path))  # every ROI hook's secret is set and long enough
    from rules.loader import load_rules

    ruleset = load_rules(path)  # the rule files it names, and every cross-reference
    print(f"{path}: OK — brand {workspace.brand.name!r}, {len(workspace.sources)} source(s), {ruleset.summary()}")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from bot.db import make_engine
    from bot.migrate import current_revision, downgrade, head_revision, upgrade
    from bot.settings import Settings

    engine = make_engine(Settings().database_url)
    try:
        if args.action == "upgrade":
            from bot.coordination import migration_lock

            with migration_lock(engine):  # replicas starting together upgrade one after the other
                upgrade(engine, args.revision or "head")
        elif args.action == "downgrade":
            downgrade(engine, args.revision or "base")
        print(f"database at revision {current_revision(engine) or '(empty)'} (head: {head_revision()})")
    finally:
        engine.dispose()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.runtime import Runtime, RuntimeOptions
    from bot.settings import Settings
    from bot.workspace import load_workspace
    from monitors.schedule import ScheduledSource
    from monitors.sources import build_source

    settings = Settings()
    workspace = load_workspace(settings.veille_config)
    token, secret = settings.require_slack()
    # Webhook sources are not polled: they are fed by the HTTP server.
    sources = [ScheduledSource(s.name, build_source(s, config_file=settings.veille_config, brand=workspace.brand),
                               s.poll_every_s) for s in workspace.sources if s.enabled and s.type != "webhook"]
    # Pushed mentions: `type: webhook` sources, and Meta's webhooks for Instagram sources (docs/webhooks.md).
    from monitors.poll import make_http_client
    from monitors.roi_webhook import roi_hooks_from_config
    from monitors.sources.http import SourceHttp
    from monitors.webhooks import hooks_from_config

    hook_client = make_http_client()
    webhooks, meta_webhooks = hooks_from_config(
        workspace.sources, brand=workspace.brand, config_file=settings.veille_config,
        http_factory=lambda c: SourceHttp(hook_client, source=c.name, network=c.network))
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    from monitors.actions import connector_executor
    from monitors.poll import make_http_client
    from rules.loader import RulesHolder

    # The bot refuses to start on invalid rule files, like on an invalid veille.yaml.
    ruleset = RulesHolder(settings.veille_config) if workspace.rules_files else None
    action_client = make_http_client()
    runtime = Runtime(RuntimeOptions(
        token=token, signing_secret=secret, slack_api_url=settings.slack_api_url,
        database_url=settings.database_url, workspace=workspace, clock=SystemClock(), sources=sources,
        host=args.host, port=args.port, webhooks=webhooks, meta_webhooks=meta_webhooks, rules=ruleset,
        network_executor=connector_executor(sources, action_client),
        roi_hooks=roi_hooks_from_config(workspace.roi, config_file=settings.veille_config),
    ))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    runtime.start()
    mode = "HTTP"
    socket_handler = None
    if app_token:
        # Socket Mode: Slack's requests arrive over a websocket; the HTTP server still serves /healthz.
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        socket_handler = SocketModeHandler(runtime.app, app_token)
        socket_handler.connect()
        mode = "Socket Mode"
    logger.info("Veille is running (%s) on %s — %d source(s); Ctrl-C to stop", mode, runtime.url, len(sources))
    stop.wait()
    logger.info("stopping")
    if socket_handler is not None:
        socket_handler.close()
    runtime.stop()
    action_client.close()
    hook_client.close()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Print every configured source's health as a table (from the database the bot writes to)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table
    from sqlmodel import Session

    from bot.clock import SystemClock
    from bot.db import make_engine
    from bot.migrate import upgrade
    from bot.services.sources import ago, source_health
    from bot.settings import Settings
    from bot.workspace import load_workspace

    settings = Settings()
    workspace = load_workspace(args.path or settings.veille_config)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        now = SystemClock().now()
        with Session(engine) as session:
            health = source_health(session, workspace, now=now)
    finally:
        engine.dispose()
    colors = {"ok": "green", "failing": "red", "paused": "magenta", "waiting": "yellow"}
    table = Table(title=f"Veille sources — {len(health)} configured")
    for column in ("source", "type", "state", "last success", "last error", "items seen", "set aside", "next poll"):
        table.add_column(column, overflow="fold", justify="right" if column in ("items seen", "set aside") else "left")
    for item in health:
        error = item.paused_reason or item.last_error or ""
        # Error texts come from the networks: escaped, so "[...]" in them is not taken for rich markup.
        table.add_row(escape(item.name), item.type, f"[{colors.get(item.state, 'white')}]{item.state}[/]",
                      ago(item.last_success_at, now), escape(error[:80] + ("…" if len(error) > 80 else "")),
                      f"{item.items_seen:,}", str(item.rejected),
                      ago(item.next_poll_at, now) if item.next_poll_at else "—")
    # Piped into a file or a monitoring script, keep one row per line instead of folding at 80 columns.
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    return 1 if any(h.state in ("failing", "paused") for h in health) else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.console.demo import run_demo

    return run_demo(db_path=args.db, seconds=args.seconds, interactive=None if args.prompt == "auto"
                    else args.prompt == "yes")


def cmd_buzz_score(args: argparse.Namespace) -> int:
    """Score a NAB-format series with the buzz detector's default configuration, streaming."""
    import contextlib
    import os

    from monitors.buzz.series import SeriesFormatError, score_csv

    # Write beside the target and rename at the end, so a failure never leaves half a file behind.
    tmp = None if args.output == "-" else f"{args.output}.tmp"
    try:
        with contextlib.ExitStack() as stack:
            fin = sys.stdin if args.input == "-" else stack.enter_context(
                open(args.input, newline="", encoding="utf-8"))
            fout = sys.stdout if tmp is None else stack.enter_context(open(tmp, "w", newline="", encoding="utf-8"))
            rows = score_csv(fin, fout)
        if tmp is not None:
            os.replace(tmp, args.output)
    except (OSError, SeriesFormatError) as error:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
        print(f"veille buzz score: {args.input}: {error}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"scored {rows} rows -> {args.output}", file=sys.stderr)
    return 0


def cmd_sentiment(args: argparse.Namespace) -> int:
    import io
    import os

    from bot.sentiment import SentimentScorer
    from bot.sentiment.stream import score_lines

    scorer = SentimentScorer(default_lang=args.default_lang)
    # Undecodable bytes must not stop a million-line stream; line buffering hands each answer on at once.
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="\n")
    stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", line_buffering=True, newline="\n")
    try:
        score_lines(stdin, stdout, scorer=scorer, lang=None if args.lang == "auto" else args.lang)
        stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Python's docs advise for pipes.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def cmd_roi_import(args: argparse.Namespace) -> int:
    """Import campaign results; exit 1 when some lines were refused (the valid ones are stored anyway)."""
    from bot.clock import SystemClock
    from bot.db import make_engine, session_scope
    from bot.migrate import upgrade
    from bot.services.roi import import_csv
    from bot.settings import Settings
    from bot.workspace import load_workspace

    settings = Settings()
    workspace = load_workspace(args.config or settings.veille_config)
    try:
        if args.file == "-":
            text = sys.stdin.read()
        else:
            with open(args.file, encoding="utf-8-sig", newline="") as handle:
                text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        print(f"veille roi import: {args.file}: {error}", file=sys.stderr)
        return EXIT_CONFIG
    engine = make_engine(settings.database_url)
    try:
        from bot.coordination import migration_lock

        with migration_lock(engine):  # a running bot may be upgrading at the same time
            upgrade(engine)
        with session_scope(engine) as session:
            report = import_csv(session, text, currency=workspace.roi.currency, now=SystemClock().now())
    finally:
        engine.dispose()
    print(f"{args.file}: {report.stored} new result(s), {report.updated} updated, {len(report.errors)} line(s) refused")
    for error in report.errors:
        print(f"  {error}", file=sys.stderr)
    return 1 if report.errors else 0


def cmd_calendar(args: argparse.Namespace) -> int:
    """Import posts from CSV or ICS (exit 1 when lines were refused; the good ones are kept), or export ICS."""
    from bot.clock import SystemClock
    from bot.db import make_engine, session_scope
    from bot.migrate import upgrade
    from bot.services import calendar_io
    from bot.settings import Settings
    from bot.workspace import load_workspace

    settings = Settings()
    workspace = load_workspace(args.config or settings.veille_config)
    now = SystemClock().now()
    text = ""
    if args.calendar_command == "import":
        try:
            with open(args.file, encoding="utf-8-sig", newline="") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            print(f"veille calendar import: {args.file}: {error}", file=sys.stderr)
            return EXIT_CONFIG
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            if args.calendar_command == "import":
                result = calendar_io.import_text(session, text, tz=workspace.brand.timezone, user=args.by, now=now)
            else:
                ics = calendar_io.export_ics(calendar_io.export_posts(session), brand=workspace.brand.name, now=now)
    finally:
        engine.dispose()
    if args.calendar_command == "export":
        with open(args.file, "w", encoding="utf-8", newline="") as handle:
            handle.write(ics)
        print(f"{args.file}: {ics.count('BEGIN:VEVENT')} post(s) exported")
        return 0
    print(f"{args.file}: {result.created} added, {result.updated} updated, {len(result.problems)} line(s) refused")
    for problem in result.problems:
        print(f"  {problem.describe('en')}", file=sys.stderr)
    return 1 if result.problems else 0


def cmd_gdpr(args: argparse.Namespace) -> int:
    """Personal data: purge what expired, forget an author, or export what is held about them."""
    import getpass
    import json
    import os

    from bot.clock import SystemClock
    from bot.db import make_engine
    from bot.errors import UserError
    from bot.messages import t
    from bot.migrate import upgrade
    from bot.services import gdpr, retention
    from bot.settings import Settings
    from bot.workspace import load_workspace

    settings = Settings()
    workspace = load_workspace(args.config or settings.veille_config)
    lang = workspace.brand.language
    who = args.by or getpass.getuser()
    now = SystemClock().now()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        if args.gdpr_command == "purge":
            report = retention.purge_expired(engine, workspace, now, dry_run=args.dry_run, actor=who)
            days = workspace.retention
            policy = t("gdpr_policy", lang, **{k: t("gdpr_days", lang, n=v) if v else t("gdpr_keep", lang)
                                               for k, v in (("raw", days.raw_days), ("text", days.text_days))})
            print(t("gdpr_purge", lang, verb=t("gdpr_purge_would" if args.dry_run else "gdpr_purge_done", lang),
                    policy=policy, **report.counts()))
            return 0
        if args.gdpr_command == "forget":
            forgotten = gdpr.forget(engine, workspace, network=args.network, handle=args.handle, requested_by=who,
                                    now=now)
            handle = args.handle.strip().lstrip("@")
            if forgotten.nothing_held:
                print(t("gdpr_nothing_held", lang, network=args.network, handle=handle))
            else:
                print(t("gdpr_forgot", lang, network=args.network, handle=handle, **{
                    k: v for k, v in forgotten.counts().items() if k not in ("authors", "corrections")}))
            return 0
        data = gdpr.export(engine, workspace, network=args.network, handle=args.handle, requested_by=who, now=now)
    except UserError as error:
        print(f"veille gdpr {args.gdpr_command}: {error}", file=sys.stderr)
        return EXIT_CONFIG
    finally:
        engine.dispose()
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
    handle = data["subject"]["handle"]
    if args.out in (None, "-"):
        sys.stdout.buffer.write(text.encode("utf-8"))
    else:
        # Written beside the target and renamed, so a failure never leaves half a file of personal data.
        tmp = f"{args.out}.tmp"
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, args.out)
    if not data["authors"] and not data["rejected_items"]:
        print(t("gdpr_nothing_held", lang, network=data["subject"]["network"], handle=handle), file=sys.stderr)
    elif args.out not in (None, "-"):
        print(t("gdpr_exported", lang, network=data["subject"]["network"], handle=handle,
                mentions=len(data["mentions"]), path=args.out), file=sys.stderr)
    return 0


GDPR_EXPORT_HELP = """\
Writes, as UTF-8 JSON, everything Veille holds about one author (schema "veille.gdpr-export/1"):
  schema, generated_at, subject {network, handle}
  authors[]: {network, handle, name, followers, first_seen_at, last_seen_at}
  mentions[]: {network, external_id, kind, source, created_at, ingested_at, lang, text, permalink, parent_id,
               conversation_id, raw, sentiment {label, compound, corrected}, rules, responsibility, status,
               handled_at, text_purged_at, raw_purged_at,
               tasks[] {rule, action, created_at, due_at, done_at, cancelled},
               events[] {action, at, detail}, network_actions[] {kind, text, status, requested_at, done_at},
               sentiment_corrections[] {old_label, new_label, term, at},
               incidents[] {id, title, severity, status, opened_at, resolved_at}}
  rejected_items[]: {source, reason, seen_at, raw} (items set aside that carry the handle)
Times are ISO 8601 in UTC. Team members' Slack ids are left out. Fields may be added, never renamed."""


def cmd_backfill(args: argparse.Namespace) -> int:
    """Stream past mentions from a JSON Lines file (or a replay scenario) into the store, resumably."""
    from bot.backfill import Progress, backfill, open_items, peak_rss_mb
    from bot.clock import SystemClock
    from bot.db import make_engine
    from bot.migrate import upgrade
    from bot.pipeline import RulesContext
    from bot.sentiment import SentimentScorer
    from bot.settings import Settings
    from bot.workspace import load_workspace
    from rules.loader import load_rules

    settings = Settings()
    workspace = load_workspace(args.config or settings.veille_config)
    ruleset = load_rules(args.config or settings.veille_config) if workspace.rules_files else None
    try:
        items, size, close = open_items(args.file)
    except OSError as error:
        print(f"veille backfill: {args.file}: {error}", file=sys.stderr)
        return EXIT_CONFIG
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        report = backfill(items, engine=engine, workspace=workspace, scorer=SentimentScorer.for_workspace(workspace),
                          rules=RulesContext(ruleset, ruleset.new_campaign_window()) if ruleset else None,
                          clock=SystemClock().now, source=args.source, batch=args.batch, progress=Progress(size))
    except KeyboardInterrupt:
        print("veille backfill: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    finally:
        close()
        engine.dispose()
    print(f"{args.file}: {report.read:,} read, {report.stored:,} stored, {report.skipped:,} already stored, "
          f"{report.rejected:,} set aside, in {report.seconds:.1f}s ({report.per_second:,.0f}/s); "
          f"peak memory {peak_rss_mb():.0f} MB")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="veille", description="Social listening turned into action in Slack.")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default: $VEILLE_LOG_LEVEL or INFO)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot (Socket Mode if SLACK_APP_TOKEN is set, else HTTP)")
    run.add_argument("--port", type=int, default=3000)
    run.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="play the bundled scenario against a local fake Slack, in the terminal")
    demo.add_argument("--db", default="veille-demo.db", help="SQLite file left for inspection (default: %(default)s)")
    demo.add_argument("--seconds", type=float, default=30.0, help="real seconds the scenario takes (default 30)")
    demo.add_argument("--prompt", choices=("auto", "yes", "no"), default="auto",
                      help="open the prompt after the replay (auto: only when stdin is a terminal)")
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=("upgrade", "downgrade", "current"))
    db.add_argument("revision", nargs="?", default=None)
    db.set_defaults(func=cmd_db)

    check = sub.add_parser("check-config", help="validate veille.yaml and exit")
    check.add_argument("path", nargs="?", default=None, help="config file (default: $VEILLE_CONFIG or veille.yaml)")
    check.set_defaults(func=cmd_check_config)

    from rules.cli import add_rules_parser

    add_rules_parser(sub)  # rules explain, rules test

    status = sub.add_parser("status", help="show every source: state, last success, last error, items, next poll "
                                                 "(exit 1 if one is failing or paused)")
    status.add_argument("path", nargs="?", default=None, help="config file (default: $VEILLE_CONFIG or veille.yaml)")
    status.set_defaults(func=cmd_status)

    buzz = sub.add_parser("buzz", help="the spike detector")
    buzz_sub = buzz.add_subparsers(dest="buzz_command", required=True)
    score = buzz_sub.add_parser("score", help="score a timestamp,value CSV (NAB format) with the default "
                                              "configuration: writes timestamp,value,anomaly_score,alert")
    score.add_argument("--in", dest="input", required=True, help="input CSV ('-' for stdin)")
    score.add_argument("--out", dest="output", required=True, help="output CSV ('-' for stdout)")
    score.set_defaults(func=cmd_buzz_score)
    sentiment = sub.add_parser("sentiment", help="score one text per line of stdin: label<TAB>compound<TAB>lang")
    sentiment.add_argument("--lang", choices=("auto", "en", "fr"), default="auto",
                           help="language of every line, or auto to detect each (default: auto)")
    sentiment.add_argument("--default-lang", choices=("en", "fr"), default="en",
                           help="language of lines too short to tell, with --lang auto (default: en)")
    sentiment.set_defaults(func=cmd_sentiment)

    backfill = sub.add_parser("backfill", help="store past mentions from a JSON Lines file (or a replay scenario "
                                               "directory) as history: decided, not carded; resumable")
    backfill.add_argument("file", help="JSON Lines file, one mention per line ('-' for stdin), or a scenario directory")
    backfill.add_argument("--source", default="backfill", help="source name recorded on the items (default: backfill)")
    backfill.add_argument("--batch", type=int, default=1000, help="mentions per transaction (default 1000)")
    backfill.add_argument("--config", default=None, help="config file (default: $VEILLE_CONFIG or veille.yaml)")
    backfill.set_defaults(func=cmd_backfill)

    gdpr = sub.add_parser("gdpr", help="personal data: retention purge, forget an author, export what is held")
    gdpr.add_argument("--config", default=None, help="config file (default: $VEILLE_CONFIG or veille.yaml)")
    gdpr.add_argument("--by", default=None, help="who runs it, for the audit trail (default: your login)")
    gdpr_sub = gdpr.add_subparsers(dest="gdpr_command", required=True)
    purge = gdpr_sub.add_parser("purge", help="purge texts and raw payloads older than retention: (the bot also "
                                              "does it every hour)")
    purge.add_argument("--dry-run", action="store_true", help="only count what would be purged")
    forget = gdpr_sub.add_parser("forget", help="erase an author's items and personal fields everywhere; their "
                                                "Slack cards become a tombstone (idempotent)")
    export = gdpr_sub.add_parser("export", help="write what is held about an author as JSON",
                                 description=GDPR_EXPORT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    for command in (forget, export):
        command.add_argument("network", help="x, facebook, instagram, linkedin, youtube, mastodon, bluesky, ...")
        command.add_argument("handle", help="the author's handle, with or without @")
    export.add_argument("--out", default=None, help="file to write (default: standard output)")
    gdpr.set_defaults(func=cmd_gdpr)

    roi = sub.add_parser("roi", help="campaign results for /kpi roi")
    roi_sub = roi.add_subparsers(dest="roi_command", required=True)
    roi_import = roi_sub.add_parser("import", help="import campaign results from a CSV (header: campaign,day,"
                                    "network,impressions,clicks,conversions,leads,spend,currency); bad lines are "
                                    "listed, good ones kept; importing again changes nothing")
    roi_import.add_argument("file", help="CSV file ('-' for stdin)")
    roi_import.add_argument("--config", default=None, help="config file (default: $VEILLE_CONFIG or veille.yaml)")
    roi_import.set_defaults(func=cmd_roi_import)

    cal = sub.add_parser("calendar", help="the content calendar: import CSV or ICS, export ICS")
    cal.add_argument("--config", default=None, help="config file (default: $VEILLE_CONFIG or veille.yaml)")
    cal_sub = cal.add_subparsers(dest="calendar_command", required=True)
    cal_import = cal_sub.add_parser("import", help="import posts from a .csv (header: network,date,time,title[,pillar,"
                                    "type,format,owner,status,link,uid]) or an .ics; re-importing updates, bad lines "
                                    "are listed and the good ones kept")
    cal_import.add_argument("file")
    cal_import.add_argument("--by", default="cli", help="recorded as the posts' creator (default: cli)")
    cal_export = cal_sub.add_parser("export", help="write every post of the calendar as an .ics file")
    cal_export.add_argument("file")
    cal.set_defaults(func=cmd_calendar)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from bot.settings import Settings

    level = args.log_level or Settings().log_level
    _configure_logging(level if args.command != "demo" or args.log_level else "WARNING", args.command)
    try:
        return int(args.func(args))
    except ConfigError as error:
        _print_config_error(error)
        return EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
