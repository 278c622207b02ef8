"""A local fake of the Slack Web API that the real `slack_sdk` clients talk to over HTTP.

The `veille demo` console and the test suite point `WebClient(base_url=fake.base_url)` at it. It
answers with Slack's documented response shapes, keeps channel history (metadata, threads, edits),
records every call with its parsed body so tests can assert what a person would see, serves
`response_url`s and the `files_upload_v2` upload URL, and injects failures (5xx, 429 with
`Retry-After`, Slack error codes, outages, slowness) per method.

Method shapes follow https://api.slack.com/methods/<method>. Bound to 127.0.0.1 on port 0 so parallel
runs never collide (bolt's and opsdroid's mock servers use fixed ports).
"""

from __future__ import annotations

import base64
import binascii
import copy
import email.parser
import email.policy
import hashlib
import itertools
import json
import logging
import mimetypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from bot.clock import Clock, SystemClock

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]
MethodHandler = Callable[[JsonDict], JsonDict]

# slack_sdk sends these as JSON strings in form bodies and as structures in JSON bodies.
_JSON_FIELDS = ("blocks", "attachments", "metadata", "view", "files", "user_auth_blocks")
_DEFAULT_LIMIT = 100
_MAX_LIMIT = 999


@dataclass(frozen=True)
class Call:
    """One Web API request as the fake received and answered it."""

    method: str
    body: JsonDict
    headers: dict[str, str]  # lower-cased names: urllib sends "Content-type", others "Content-Type"
    time: datetime
    status: int = 200
    response: JsonDict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return str(error) if error is not None else None


class ResponsePost(NamedTuple):
    """One POST received on a `response_url`."""

    name: str
    body: JsonDict


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int | None
    remaining: int | None  # None: until reset()


@dataclass
class _Stub:
    response: JsonDict
    remaining: int | None


@dataclass
class _Upload:
    file_id: str
    filename: str
    length: int
    alt_txt: str | None
    data: bytes | None = None


@dataclass(frozen=True)
class _Answer:
    status: int
    body: JsonDict | str
    headers: dict[str, str] = field(default_factory=dict)


class _ApiError(Exception):
    """A Slack error code, answered as HTTP 200 `{"ok": false, "error": code}` like Slack does."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class FakeSlack:
    """A fake Slack workspace served over HTTP on 127.0.0.1, port 0.

    Use as a context manager, or `start()` / `stop()`. All state sits behind one lock; the listener
    hooks `on_call` / `on_response` run outside it so they may call back into the fake.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        team_id: str = "T0VEILLE",
        team: str = "Veille",
        team_domain: str = "veille",
        bot_user_id: str = "U0VEILLEBOT",
        bot_user: str = "veille",
        bot_id: str = "B0VEILLE",
        app_id: str = "A0VEILLE",
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.team_id = team_id
        self.team = team
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_user = bot_user
        self.bot_id = bot_id
        self.app_id = app_id
        self.on_call: Callable[[Call], None] | None = None
        self.on_response: Callable[[str, JsonDict], None] | None = None
        # Re-entrant: an outage(until=callable) predicate may itself call calls() while the lock is held.
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._methods: dict[str, MethodHandler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.open": self._conversations_open,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "users.info": self._users_info,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "reactions.add": self._reactions_add,
        }
        self._init_state()

    def _init_state(self) -> None:
        self._calls: list[Call] = []
        self._responses: list[ResponsePost] = []
        self._channels: dict[str, list[JsonDict]] = {}
        self._views: dict[str, JsonDict] = {}
        self._homes: dict[str, str] = {}
        self._uploads: dict[str, _Upload] = {}
        self._users: dict[str, JsonDict] = {}
        self._response_bindings: dict[str, tuple[str, str | None]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._stubs: dict[str, _Stub] = {}
        self._delays: dict[str, float] = {}
        self._outage: Callable[[], bool] | None = None
        self._last_ts_us = 0
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeSlack is already started")
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in delay() so they finish promptly
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """The Web API root for `WebClient(base_url=...)`; ends with a slash as slack_sdk expects."""
        return f"{self.root_url}/api/"

    def response_url(self, name: str, *, channel: str | None = None, message_ts: str | None = None) -> str:
        """Return a response_url on this server; bind it to a message to honour replace/delete/in_channel."""
        if channel is not None:
            with self._lock:
                self._response_bindings[name] = (channel, message_ts)
        return f"{self.root_url}/response/{quote(name, safe='')}"

    # ------------------------------------------------------------------ inspection

    def calls(self, method: str | None = None) -> list[Call]:
        """Return every Web API call received (failed ones included), oldest first."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def responses(self) -> list[ResponsePost]:
        """Return the POSTs received on response URLs, oldest first."""
        with self._lock:
            return list(self._responses)

    def messages(self, channel: str) -> list[JsonDict]:
        """Return the channel's stored messages as they are now (after updates), oldest first."""
        with self._lock:
            return copy.deepcopy(self._channels.get(channel, []))

    def views(self) -> list[JsonDict]:
        """Return every opened or published view as it is now."""
        with self._lock:
            return copy.deepcopy(list(self._views.values()))

    def home(self, user_id: str) -> JsonDict | None:
        """Return the App Home view published for `user_id`, if any."""
        with self._lock:
            view_id = self._homes.get(user_id)
            return copy.deepcopy(self._views[view_id]) if view_id else None

    def file_content(self, file_id: str) -> bytes | None:
        """Return the bytes uploaded for `file_id` through its upload URL."""
        with self._lock:
            upload = self._uploads.get(file_id)
            return upload.data if upload else None

    def reset(self) -> None:
        """Forget all calls, messages, views, files, users and injected failures; keep serving."""
        with self._lock:
            self._init_state()

    # ------------------------------------------------------------------ configuration

    def add_user(self, user_id: str, **fields: Any) -> None:
        """Define the user `users.info` returns for `user_id`; `fields` override the generated ones."""
        with self._lock:
            user = self._default_user(user_id)
            profile = {**user["profile"], **fields.pop("profile", {})}
            self._users[user_id] = {**user, **fields, "profile": profile}

    def fail(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
    ) -> None:
        """Make the next `times` calls to `method` fail (`times=None`: until `reset()`).

        Without `error`: HTTP `status` (default 500). `error="ratelimited"`: HTTP 429 with a
        `Retry-After` header (default 1 s). Any other `error`: HTTP 200 `{"ok": false, "error": error}`,
        which is how Slack reports `channel_not_found` and friends.
        """
        if error == "ratelimited":
            resolved = status or 429
        elif error is not None:
            resolved = status or 200
        else:
            resolved = status or 500
        with self._lock:
            self._failures.setdefault(method, []).append(_Failure(resolved, error, retry_after, times))

    def stub(self, method: str, response: JsonDict, *, times: int | None = None) -> None:
        """Answer `method` with a canned response body (HTTP 200) instead of the built-in behaviour."""
        with self._lock:
            self._stubs[method] = _Stub(copy.deepcopy(response), times)

    def outage(self, duration: float | Callable[[], bool] | None) -> None:
        """Answer HTTP 503 to all for `duration` seconds, or until `duration()` is true; None ends it."""
        if duration is None:
            until = None
        elif callable(duration):
            until = duration
        else:
            deadline = time.monotonic() + duration
            until = lambda: time.monotonic() >= deadline  # noqa: E731
        with self._lock:
            self._outage = until

    def delay(self, method: str, seconds: float) -> None:
        """Sleep `seconds` before answering each call to `method` (0 removes the delay)."""
        with self._lock:
            if seconds > 0:
                self._delays[method] = seconds
            else:
                self._delays.pop(method, None)

    # ------------------------------------------------------------------ request handling

    def _handle(self, path: str, headers: dict[str, str], raw: bytes) -> _Answer:
        parts = urlsplit(path)
        if parts.path.startswith("/api/"):
            return self._handle_api(parts.path[len("/api/") :], parts.query, headers, raw)
        with self._lock:
            if self._in_outage():
                return _Answer(503, "service unavailable")
        if parts.path.startswith("/response/"):
            return self._handle_response_url(unquote(parts.path[len("/response/") :]), headers, raw)
        if parts.path.startswith("/upload/"):
            return self._handle_upload(unquote(parts.path[len("/upload/") :]), raw)
        return _Answer(404, "not found")

    def _in_outage(self) -> bool:
        if self._outage is None:
            return False
        if self._outage():
            self._outage = None
            return False
        return True

    def _handle_api(self, method: str, query: str, headers: dict[str, str], raw: bytes) -> _Answer:
        try:
            body = _parse_body(headers.get("content-type", ""), raw, query)
        except ValueError:
            body, parse_error = {}, "invalid_json"
        else:
            parse_error = None
        with self._lock:
            pause = self._delays.get(method, 0.0)
        if pause:
            self._stopping.wait(pause)
        with self._lock:
            answer = self._answer_api(method, body, headers, parse_error)
            call = Call(
                method=method,
                body=body,
                headers=headers,
                time=self.clock.now(),
                status=answer.status,
                response=answer.body if isinstance(answer.body, dict) else {},
            )
            self._calls.append(call)
        if call.ok and self.on_call is not None:
            # Before writing the response, so a caller that just returned sees its hook's effects.
            try:
                self.on_call(call)
            except Exception:
                logger.exception("FakeSlack on_call hook failed for %s", method)
        return answer

    def _answer_api(self, method: str, body: JsonDict, headers: dict[str, str], parse_error: str | None) -> _Answer:
        if self._in_outage():
            return _Answer(503, {"ok": False, "error": "service_unavailable"})
        failure = self._take_failure(method)
        if failure is not None:
            if failure.error == "ratelimited" or failure.status == 429:
                retry_after = failure.retry_after if failure.retry_after is not None else 1
                return _Answer(failure.status, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})
            if failure.error is not None:
                return _Answer(failure.status, {"ok": False, "error": failure.error})
            return _Answer(failure.status, {"ok": False, "error": "fatal_error"})
        if parse_error is not None:
            return _Answer(200, {"ok": False, "error": parse_error})
        if not _has_token(headers, body):
            return _Answer(200, {"ok": False, "error": "not_authed"})
        stub = self._stubs.get(method)
        if stub is not None:
            if stub.remaining is not None:
                stub.remaining -= 1
                if stub.remaining <= 0:
                    del self._stubs[method]
            return _Answer(200, copy.deepcopy(stub.response))
        handler = self._methods.get(method)
        if handler is None:
            return _Answer(200, {"ok": False, "error": "unknown_method"})
        try:
            return _Answer(200, handler(body))
        except _ApiError as exc:
            return _Answer(200, {"ok": False, "error": exc.code})

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        if failure.remaining is not None:
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.pop(0)
        return failure

    def _handle_response_url(self, name: str, headers: dict[str, str], raw: bytes) -> _Answer:
        try:
            body = _parse_body(headers.get("content-type", ""), raw, "")
        except ValueError:
            return _Answer(400, "invalid_payload")
        if "payload" in body and isinstance(body["payload"], str):
            try:
                body = _normalize(json.loads(body["payload"]))  # legacy form-encoded webhook posts
            except ValueError:
                return _Answer(400, "invalid_payload")
        with self._lock:
            self._responses.append(ResponsePost(name, body))
            binding = self._response_bindings.get(name)
            if binding is not None:
                self._apply_response(binding, body)
        if self.on_response is not None:
            try:
                self.on_response(name, body)
            except Exception:
                logger.exception("FakeSlack on_response hook failed for %s", name)
        return _Answer(200, "ok")  # response_url answers a bare "ok", not JSON

    def _apply_response(self, binding: tuple[str, str | None], body: JsonDict) -> None:
        channel, message_ts = binding
        original = self._find(channel, message_ts) if message_ts else None
        if _truthy(body.get("delete_original")) and original is not None:
            self._channels[channel].remove(original)
        elif _truthy(body.get("replace_original")) and original is not None:
            self._edit(original, body)
        elif body.get("response_type") == "in_channel":
            self._store_message(channel, body)
        # Otherwise ephemeral: only the user who clicked sees it, nothing to store.

    def _handle_upload(self, file_id: str, raw: bytes) -> _Answer:
        with self._lock:
            upload = self._uploads.get(file_id)
            if upload is None:
                return _Answer(404, "file not found")
            upload.data = raw
        return _Answer(200, f"OK - {len(raw)}")

    # ------------------------------------------------------------------ state helpers (lock held)

    def _next_ts(self) -> str:
        # Slack timestamps are unique per channel and double as message ids; keep them strictly increasing.
        now_us = int(self.clock.now().timestamp() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def _find(self, channel: str, ts: str | None) -> JsonDict | None:
        return next((m for m in self._channels.get(channel, []) if m["ts"] == ts), None)

    def _store_message(self, channel: str, body: JsonDict) -> JsonDict:
        message: JsonDict = {
            "type": "message",
            "text": body.get("text") or "",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": self._next_ts(),
        }
        for key in ("blocks", "attachments", "metadata", "files"):
            if body.get(key):
                message[key] = _with_block_ids(body[key]) if key == "blocks" else copy.deepcopy(body[key])
        if body.get("files"):
            message["upload"] = True
        thread_ts = body.get("thread_ts")
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
            if _truthy(body.get("reply_broadcast")):
                message["subtype"] = "thread_broadcast"
            parent = self._find(channel, str(thread_ts))
            if parent is not None:
                message["parent_user_id"] = parent.get("user")
                parent["thread_ts"] = parent["ts"]
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                parent["latest_reply"] = message["ts"]
                parent["reply_users"] = sorted({*parent.get("reply_users", []), self.bot_user_id})
                parent["reply_users_count"] = len(parent["reply_users"])
        self._channels.setdefault(channel, []).append(message)
        return message

    def _edit(self, message: JsonDict, body: JsonDict) -> None:
        # chat.update keeps blocks/attachments/metadata that the call leaves out; an empty value clears them.
        if "text" in body:
            message["text"] = body["text"] or ""
        for key in ("blocks", "attachments", "metadata"):
            if key in body:
                if body[key]:
                    message[key] = _with_block_ids(body[key]) if key == "blocks" else copy.deepcopy(body[key])
                else:
                    message.pop(key, None)
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}

    def _public(self, message: JsonDict, *, with_metadata: bool = True) -> JsonDict:
        shown = copy.deepcopy(message)
        if not with_metadata:
            shown.pop("metadata", None)
        return shown

    def _default_user(self, user_id: str) -> JsonDict:
        is_bot = user_id == self.bot_user_id
        name = self.bot_user if is_bot else f"user.{user_id.lower()}"
        real_name = self.bot_user.title() if is_bot else f"User {user_id}"
        return {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": False,
            "color": "9f69e7",
            "real_name": real_name,
            "tz": "Europe/Paris",
            "tz_label": "Central European Time",
            "tz_offset": 3600,
            "profile": {
                "real_name": real_name,
                "real_name_normalized": real_name,
                "display_name": name,
                "display_name_normalized": name,
                "team": self.team_id,
                "image_48": f"https://avatars.example.invalid/{user_id}_48.png",
            },
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(self.clock.now().timestamp()),
        }

    # ------------------------------------------------------------------ Web API methods (lock held)

    def _auth_test(self, body: JsonDict) -> JsonDict:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team,
            "user": self.bot_user,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, body: JsonDict) -> JsonDict:
        channel = _required(body, "channel", "channel_not_found")
        if not (body.get("text") or body.get("blocks") or body.get("attachments")):
            raise _ApiError("no_text")
        message = self._store_message(channel, body)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": self._public(message)}

    def _chat_update(self, body: JsonDict) -> JsonDict:
        channel = _required(body, "channel", "channel_not_found")
        message = self._find(channel, str(body.get("ts")))
        if message is None:
            raise _ApiError("message_not_found")
        self._edit(message, body)
        return {
            "ok": True,
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": self._public(message),
        }

    def _chat_delete(self, body: JsonDict) -> JsonDict:
        channel = _required(body, "channel", "channel_not_found")
        message = self._find(channel, str(body.get("ts")))
        if message is None:
            raise _ApiError("message_not_found")
        self._channels[channel].remove(message)
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _chat_post_ephemeral(self, body: JsonDict) -> JsonDict:
        _required(body, "channel", "channel_not_found")
        _required(body, "user", "user_not_found")
        if not (body.get("text") or body.get("blocks") or body.get("attachments")):
            raise _ApiError("no_text")
        # Ephemeral messages never enter the history; calls("chat.postEphemeral") keeps them.
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_get_permalink(self, body: JsonDict) -> JsonDict:
        channel = _required(body, "channel", "channel_not_found")
        message = self._find(channel, str(body.get("message_ts")))
        if message is None:
            raise _ApiError("message_not_found")
        permalink = f"https://{self.team_domain}.slack.com/archives/{channel}/p{message['ts'].replace('.', '')}"
        if message.get("thread_ts") and message["thread_ts"] != message["ts"]:
            permalink += f"?thread_ts={message['thread_ts']}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": permalink}

    def _conversations_history(self, body: JsonDict) -> JsonDict:
        channel = _required(body, "channel", "channel_not_found")
        # Replies stay in their thread unless broadcast, as in Slack's history.
        top_level = [
            m
            for m in self._channels.get(channel, [])
            if m.get("thread_ts", m["ts"]) == m["ts"] or m.get("subtype") == "thread_broadcast"
        ]
        selected = _in_window(top_level, body)
        selected.reverse()  # newest first
        page, next_cursor = _paginate(selected, body, newest_first=True)
        with_metadata = _truthy(body.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [self._public(m, with_metadata=with_metadata) for m in page],
            "has_more": bool(next_cursor),
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_replies(self, body: JsonDict) -> JsonDict:
        channel = _required(body, "channel", "channel_not_found")
        message = self._find(channel, str(body.get("ts")))
        if message is None:
            raise _ApiError("thread_not_found")
        root_ts = message.get("thread_ts", message["ts"])
        thread = [m for m in self._channels[channel] if m.get("thread_ts", m["ts"]) == root_ts]
        page, next_cursor = _paginate(_in_window(thread, body), body, newest_first=False)
        with_metadata = _truthy(body.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [self._public(m, with_metadata=with_metadata) for m in page],
            "has_more": bool(next_cursor),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_open(self, body: JsonDict) -> JsonDict:
        users = _required(body, "users", "users_list_not_supplied")
        digest = hashlib.sha1(users.encode()).hexdigest()[:8].upper()  # the same users, the same DM
        return {"ok": True, "channel": {"id": f"D{digest}"}}

    def _view_record(self, view: JsonDict, *, view_id: str, external_id: str | None = None) -> JsonDict:
        return {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type", "modal"),
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": _with_block_ids(view.get("blocks") or []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": external_id or view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{next(self._ids):08x}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }

    def _views_publish(self, body: JsonDict) -> JsonDict:
        user_id = _required(body, "user_id", "invalid_arguments")
        view = _view_arg(body)
        view_id = self._homes.get(user_id)
        if view_id is not None and body.get("hash") and body["hash"] != self._views[view_id]["hash"]:
            raise _ApiError("hash_conflict")
        view_id = view_id or self._new_id("V")
        record = self._view_record({"type": "home", **view}, view_id=view_id)
        self._views[view_id] = record
        self._homes[user_id] = view_id
        return {"ok": True, "view": copy.deepcopy(record)}

    def _views_open(self, body: JsonDict) -> JsonDict:
        _required(body, "trigger_id", "invalid_trigger_id")
        view = _view_arg(body)
        view_id = self._new_id("V")
        record = self._view_record(view, view_id=view_id)
        self._views[view_id] = record
        return {"ok": True, "view": copy.deepcopy(record)}

    def _views_update(self, body: JsonDict) -> JsonDict:
        view = _view_arg(body)
        view_id = body.get("view_id")
        if not view_id and body.get("external_id"):
            view_id = next((v["id"] for v in self._views.values() if v["external_id"] == body["external_id"]), None)
        current = self._views.get(str(view_id)) if view_id else None
        if current is None:
            raise _ApiError("not_found")
        if body.get("hash") and body["hash"] != current["hash"]:
            raise _ApiError("hash_conflict")
        record = self._view_record(
            {"type": current["type"], **view}, view_id=current["id"], external_id=current["external_id"]
        )
        self._views[current["id"]] = record
        return {"ok": True, "view": copy.deepcopy(record)}

    def _users_info(self, body: JsonDict) -> JsonDict:
        user_id = str(body.get("user") or "")
        if user_id in self._users:
            return {"ok": True, "user": copy.deepcopy(self._users[user_id])}
        if user_id[:1] not in ("U", "W"):
            raise _ApiError("user_not_found")
        return {"ok": True, "user": self._default_user(user_id)}

    def _files_get_upload_url_external(self, body: JsonDict) -> JsonDict:
        filename = _required(body, "filename", "invalid_arguments")
        try:
            length = int(body.get("length", ""))
        except ValueError:
            raise _ApiError("invalid_arguments") from None
        file_id = self._new_id("F")
        self._uploads[file_id] = _Upload(file_id, filename, length, body.get("alt_txt"))
        return {"ok": True, "upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, body: JsonDict) -> JsonDict:
        entries = body.get("files")
        if not isinstance(entries, list) or not entries:
            raise _ApiError("invalid_arguments")
        channels = [c for c in str(body.get("channels") or "").split(",") if c]
        if body.get("channel_id"):
            channels.insert(0, str(body["channel_id"]))
        now = int(self.clock.now().timestamp())
        files: list[JsonDict] = []
        for entry in entries:
            upload = self._uploads.get(str(entry.get("id")))
            if upload is None or upload.data is None:
                raise _ApiError("file_not_found")
            files.append(
                {
                    "id": upload.file_id,
                    "created": now,
                    "timestamp": now,
                    "name": upload.filename,
                    "title": entry.get("title") or upload.filename,
                    "mimetype": _mimetype(upload.filename),
                    "filetype": upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else "",
                    "user": self.bot_user_id,
                    "size": len(upload.data),
                    "alt_txt": upload.alt_txt,
                    "is_external": False,
                    "url_private": f"https://files.slack.com/files-pri/{self.team_id}-{upload.file_id}/{upload.filename}",
                    "permalink": f"https://{self.team_domain}.slack.com/files/{self.bot_user_id}/{upload.file_id}",
                    "channels": channels,
                }
            )
        # Slack shares asynchronously; sharing at once keeps tests and the console deterministic.
        for channel in channels:
            share = {
                "text": body.get("initial_comment") or "",
                "files": files,
                "thread_ts": body.get("thread_ts"),
            }
            self._store_message(channel, share)
        return {"ok": True, "files": copy.deepcopy(files)}

    def _reactions_add(self, body: JsonDict) -> JsonDict:
        channel = _required(body, "channel", "channel_not_found")
        name = _required(body, "name", "invalid_name")
        message = self._find(channel, str(body.get("timestamp")))
        if message is None:
            raise _ApiError("message_not_found")
        reactions = message.setdefault("reactions", [])
        reaction = next((r for r in reactions if r["name"] == name), None)
        if reaction is None:
            reactions.append({"name": name, "users": [self.bot_user_id], "count": 1})
        elif self.bot_user_id in reaction["users"]:
            raise _ApiError("already_reacted")
        else:
            reaction["users"].append(self.bot_user_id)
            reaction["count"] += 1
        return {"ok": True}


# ---------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is a normal event here; don't print tracebacks.
        logger.debug("FakeSlack request from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self._serve()

    def do_GET(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            answer = self.server.fake._handle(self.path, headers, raw)
        except Exception:
            # A bug in the fake must surface as a loud error, not as a dropped connection the
            # client would retry.
            logger.exception("FakeSlack failed to answer %s", self.path)
            answer = _Answer(500, {"ok": False, "error": "fake_slack_internal_error"})
        if isinstance(answer.body, dict):
            payload = json.dumps(answer.body).encode()
            content_type = "application/json; charset=utf-8"
        else:
            payload = answer.body.encode()
            content_type = "text/plain; charset=utf-8"
        self.send_response(answer.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the console owns the terminal."""


# ---------------------------------------------------------------------- pure helpers


def _parse_body(content_type: str, raw: bytes, query: str) -> JsonDict:
    """Parse a form, multipart or JSON body (plus the query string) into one normalized dict."""
    body: JsonDict = dict(parse_qsl(query, keep_blank_values=True))
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime == "application/json":
        if raw.strip():
            parsed = json.loads(raw)
            if not isinstance(parsed, dict):
                raise ValueError("JSON body must be an object")
            body.update(parsed)
    elif mime == "multipart/form-data":
        header = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + raw)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                body[name] = payload if part.get_filename() else payload.decode("utf-8", "replace")
    elif raw:
        body.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return _normalize(body)


def _normalize(body: JsonDict) -> JsonDict:
    """Decode the JSON-string fields of form bodies so `body["blocks"]` is always a list of dicts."""
    for key in _JSON_FIELDS:
        value = body.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            try:
                body[key] = json.loads(value)
            except ValueError:
                pass  # keep what was sent; the call record should show it as is
    return body


def _has_token(headers: dict[str, str], body: JsonDict) -> bool:
    auth = headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    # Slack also accepts a `token` form field, which old clients send.
    return (scheme.lower() == "bearer" and bool(token.strip())) or bool(body.get("token"))


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _required(body: JsonDict, key: str, error: str) -> str:
    value = body.get(key)
    if value is None or value == "":
        raise _ApiError(error)
    return str(value)


def _view_arg(body: JsonDict) -> JsonDict:
    view = body.get("view")
    if not isinstance(view, dict):
        raise _ApiError("invalid_arguments")
    return view


def _with_block_ids(blocks: Any) -> Any:
    """Fill in missing block_id / action_id the way Slack does, so clicks can name them."""
    if not isinstance(blocks, list):
        return copy.deepcopy(blocks)
    filled = copy.deepcopy(blocks)
    for index, block in enumerate(filled):
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", _short_id(json.dumps(block, sort_keys=True), index))
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for position, element in enumerate(elements):
            if isinstance(element, dict) and "action_id" not in element and element.get("type") != "image":
                element["action_id"] = _short_id(json.dumps(element, sort_keys=True), position)
    return filled


def _short_id(seed: str, index: int) -> str:
    # Deterministic, so the same card renders the same ids in a replayed demo.
    return base64.b32encode(hashlib.sha1(f"{index}:{seed}".encode()).digest()).decode()[:5]


def _in_window(messages: list[JsonDict], body: JsonDict) -> list[JsonDict]:
    """Keep messages between `oldest` and `latest` (exclusive unless `inclusive`), in the given order."""
    inclusive = _truthy(body.get("inclusive"))
    oldest = _ts_arg(body.get("oldest"), "invalid_ts_oldest")
    latest = _ts_arg(body.get("latest"), "invalid_ts_latest")

    def keep(ts: int) -> bool:
        if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
            return False
        return latest is None or ts < latest or (ts == latest and inclusive)

    return [m for m in messages if keep(_ts_us(m["ts"]))]


def _ts_arg(value: Any, error: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return _ts_us(str(value))
    except ArithmeticError:
        raise _ApiError(error) from None


def _ts_us(ts: str) -> int:
    # Integer microseconds: a float cannot hold "1700000000.000101" exactly, and ts equality matters.
    return int(Decimal(ts) * 1_000_000)


def _paginate(messages: list[JsonDict], body: JsonDict, *, newest_first: bool) -> tuple[list[JsonDict], str]:
    """Cut one page; cursors are opaque base64 like Slack's ("next_ts:<ts>")."""
    try:
        limit = int(body.get("limit") or _DEFAULT_LIMIT)
    except (TypeError, ValueError):
        raise _ApiError("invalid_limit") from None
    limit = max(1, min(limit, _MAX_LIMIT))
    start = 0
    cursor = body.get("cursor")
    if cursor:
        try:
            decoded = base64.b64decode(str(cursor), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise _ApiError("invalid_cursor") from None
        if not decoded.startswith("next_ts:"):
            raise _ApiError("invalid_cursor")
        try:
            cursor_ts = _ts_us(decoded.removeprefix("next_ts:"))
        except ArithmeticError:
            raise _ApiError("invalid_cursor") from None
        start = next(
            (
                i
                for i, m in enumerate(messages)
                if (_ts_us(m["ts"]) <= cursor_ts if newest_first else _ts_us(m["ts"]) >= cursor_ts)
            ),
            len(messages),
        )
    page = messages[start : start + limit]
    rest = messages[start + limit :]
    next_cursor = base64.b64encode(f"next_ts:{rest[0]['ts']}".encode()).decode() if rest else ""
    return page, next_cursor


def _mimetype(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


__all__ = ["Call", "FakeSlack", "ResponsePost"]
