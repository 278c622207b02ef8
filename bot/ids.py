"""Action and callback ids: one constant each, shared by the renderers that emit them and the handlers that listen.

A leaf module (no imports), so `bot.render` and `handlers` can both use it without an import cycle.
"""

MARK_HANDLED = "mark_handled"
REOPEN = "reopen"
TAKE = "take"
REASSIGN = "reassign"
SNOOZE = "snooze"
CARD_MENU = "card_menu"  # overflow: not relevant, wrong sentiment
DIGEST_EXPAND = "digest_expand"
DIGEST_HANDLE_ALL = "digest_handle_all"
REPLY = "reply"
THANK = "thank"
HIDE = "hide"
APPROVE_ACTION = "approve_action"
REJECT_ACTION = "reject_action"
REPLY_MODAL = "reply_modal"  # callback id of the reply view
ACK_INCIDENT = "incident_ack"
RESOLVE_INCIDENT = "incident_resolve"
OVERRIDE_MODAL = "sentiment_override"  # callback id of the brand word override view
AWAY_TOGGLE = "home_away"
