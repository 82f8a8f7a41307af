"""Translation for kv rules: ``_("Home", app.lang)`` re-evaluates when the language changes."""
from l10n import translate


def _(msgid: str, lang: str = "zh_CN", **params: object) -> str:
    return translate(msgid, lang, **params)
