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


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    # slack_sdk logs request URLs and bodies at DEBUG; keep tokens and message text out of our logs.
    logging.getLogger("slack_sdk").setLevel(max(logging.INFO, logging.getLogger().level))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


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
            build_source(source, config_file=str(path))
    print(f"{path}: OK — brand {workspace.brand.name!r}, {len(workspace.sources)} source(s), "
          f"{len(workspace.responsibilities)} responsibilit{'y' if len(workspace.responsibilities) == 1 else 'ies'}")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from bot.db import make_engine
    from bot.migrate import current_revision, downgrade, head_revision, upgrade
    from bot.settings import Settings

    engine = make_engine(Settings().database_url)
    try:
        if args.action == "upgrade":
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
    sources = [ScheduledSource(s.name, build_source(s, config_file=settings.veille_config), s.poll_every_s)
               for s in workspace.sources if s.enabled]
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    runtime = Runtime(RuntimeOptions(
        token=token, signing_secret=secret, slack_api_url=settings.slack_api_url,
        database_url=settings.database_url, workspace=workspace, clock=SystemClock(), sources=sources,
        host=args.host, port=args.port,
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
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.console.demo import run_demo

    return run_demo(db_path=args.db, seconds=args.seconds, interactive=None if args.prompt == "auto"
                    else args.prompt == "yes")


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from bot.settings import Settings

    level = args.log_level or Settings().log_level
    _configure_logging(level if args.command != "demo" or args.log_level else "WARNING")
    try:
        return int(args.func(args))
    except ConfigError as error:
        _print_config_error(error)
        return EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
