"""Action and callback ids: one constant each, shared by the renderers that emit them and the handlers that listen.

A leaf module (no imports), so `bot.render` and `handlers` can both use it without an import cycle.
"""

MARK_HANDLED = "mark_handled"
REOPEN = "reopen"
