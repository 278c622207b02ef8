"""Every sentence a person reads from Veille, in one place, in English and French."""

from __future__ import annotations

from typing import Literal

Lang = Literal["en", "fr"]

_STRINGS: dict[str, dict[Lang, str]] = {
    "mark_handled": {"en": "Mark handled", "fr": "Marquer traité"},
    "reopen": {"en": "Reopen", "fr": "Rouvrir"},
    "handled_by": {"en": "Handled by {user} at {time}", "fr": "Traité par {user} à {time}"},
    "open": {"en": "Open", "fr": "Ouvert"},
    "owner": {"en": "Owner", "fr": "Responsable"},
    "followers": {"en": "{n} followers", "fr": "{n} abonnés"},
    "view_on": {"en": "View on {network}", "fr": "Voir sur {network}"},
    "not_team_member": {
        "en": "Only the team can act on cards: ask an admin ({admins}) to add you to a responsibility in veille.yaml.",
        "fr": "Seule l'équipe peut agir sur les cartes : demandez à un admin ({admins}) de vous ajouter "
              "à une responsabilité dans veille.yaml.",
    },
    "mention_gone": {"en": "This item no longer exists in Veille.", "fr": "Cet élément n'existe plus dans Veille."},
    "unexpected_error": {
        "en": "Something went wrong on our side (error id {cid}). Nothing was changed; please try again.",
        "fr": "Une erreur s'est produite de notre côté (identifiant {cid}). Rien n'a été modifié ; réessayez.",
    },
    "unknown_subcommand": {
        "en": "I don't know `{command} {arg}`.{hint} Try `{command} help`.",
        "fr": "Je ne connais pas `{command} {arg}`.{hint} Essayez `{command} help`.",
    },
    "did_you_mean": {"en": " Did you mean `{suggestion}`?", "fr": " Vouliez-vous dire `{suggestion}` ?"},
    "kpi_title": {"en": "KPIs — {brand}", "fr": "Indicateurs — {brand}"},
    "kpi_today": {"en": "Today", "fr": "Aujourd'hui"},
    "kpi_7d": {"en": "Last 7 days", "fr": "7 derniers jours"},
    "kpi_line": {
        "en": "*{n}* items · 🟢 {pos}% positive · ⚪ {neu}% neutral · "
              "🔴 {neg}% negative · *{open}* open ({handled} handled)",
        "fr": "*{n}* éléments · 🟢 {pos} % positifs · ⚪ {neu} % neutres · "
              "🔴 {neg} % négatifs · *{open}* ouverts ({handled} traités)",
    },
    "kpi_by_network": {"en": "By network: {parts}", "fr": "Par réseau : {parts}"},
    "kpi_help": {
        "en": "`/kpi` shows today and the last 7 days: volume, sentiment shares, open items.",
        "fr": "`/kpi` affiche aujourd'hui et les 7 derniers jours : volume, sentiment, éléments ouverts.",
    },
    "calendar_title": {"en": "Content calendar — next {days} days",
                       "fr": "Calendrier éditorial — {days} prochains jours"},
    "calendar_empty": {
        "en": "Nothing planned in the next {days} days. Add posts with `veille calendar import` (coming) "
              "or in the database.",
        "fr": "Rien de prévu dans les {days} prochains jours.",
    },
    "calendar_help": {
        "en": "`/calendar` lists the posts planned for the next 7 days.",
        "fr": "`/calendar` liste les publications prévues dans les 7 prochains jours.",
    },
    "promo": {"en": "promo", "fr": "promo"},
    "take": {"en": "Take", "fr": "Je prends"},
    "reassign": {"en": "Reassign…", "fr": "Réattribuer…"},
    "snooze": {"en": "Snooze…", "fr": "Reporter…"},
    "snooze_1h": {"en": "1 hour", "fr": "1 heure"},
    "snooze_4h": {"en": "4 hours", "fr": "4 heures"},
    "snooze_tomorrow": {"en": "24 hours", "fr": "24 heures"},
    "snooze_3d": {"en": "3 days", "fr": "3 jours"},
    "not_relevant": {"en": "Not relevant", "fr": "Hors sujet"},
    "sentiment_is_positive": {"en": "Wrong sentiment? → positive", "fr": "Mauvais sentiment ? → positif"},
    "sentiment_is_neutral": {"en": "Wrong sentiment? → neutral", "fr": "Mauvais sentiment ? → neutre"},
    "sentiment_is_negative": {"en": "Wrong sentiment? → negative", "fr": "Mauvais sentiment ? → négatif"},
    "snoozed_until": {"en": "Snoozed until {time}", "fr": "Reporté jusqu'au {time}"},
    "dismissed_by": {"en": "Not relevant, said {user}", "fr": "Hors sujet, selon {user}"},
    "snooze_in_past": {"en": "A snooze must end in the future.", "fr": "Un report doit finir dans le futur."},
    "bad_sentiment": {"en": "Sentiment must be one of {labels}.", "fr": "Le sentiment doit être : {labels}."},
    "not_your_responsibility": {
        "en": "You are not in the {responsibility} group: ask {owners} or an admin ({admins}).",
        "fr": "Vous n'êtes pas dans le groupe {responsibility} : demandez à {owners} ou à un admin ({admins}).",
    },
    "history_taken": {"en": "🙋 {user} took it", "fr": "🙋 {user} s'en occupe"},
    "history_reassigned": {"en": "↪️ {user} reassigned it to {to}", "fr": "↪️ {user} l'a réattribué à {to}"},
    "history_handled": {"en": "✅ {user} marked it handled", "fr": "✅ {user} l'a marqué traité"},
    "history_reopened": {"en": "↩️ {user} reopened it", "fr": "↩️ {user} l'a rouvert"},
    "history_snoozed": {"en": "💤 {user} snoozed it until {until}", "fr": "💤 {user} l'a reporté au {until}"},
    "history_woke": {"en": "⏰ The snooze ended: back in the queue", "fr": "⏰ Fin du report : de retour dans la file"},
    "history_dismissed": {"en": "🚫 {user} marked it not relevant", "fr": "🚫 {user} l'a marqué hors sujet"},
    "history_sentiment": {"en": "✎ {user} corrected the sentiment: {old} → {new}",
                          "fr": "✎ {user} a corrigé le sentiment : {old} → {new}"},
    "history_digest_handled": {"en": "✅ {user} marked {n} items handled",
                               "fr": "✅ {user} a marqué {n} éléments traités"},
    "sentiment_word_positive": {"en": "positive ", "fr": "positives "},
    "sentiment_word_neutral": {"en": "neutral ", "fr": "neutres "},
    "sentiment_word_negative": {"en": "negative ", "fr": "négatives "},
    "digest_about": {"en": " about '{term}'", "fr": " sur « {term} »"},
    "digest_headline": {"en": "{n} {sentiment}mentions{about} in {minutes} min",
                        "fr": "{n} mentions {sentiment}{about} en {minutes} min"},
    "digest_progress": {"en": "{done}/{n} handled", "fr": "{done}/{n} traités"},
    "digest_expand": {"en": "Show all {n}", "fr": "Tout afficher ({n})"},
    "digest_handle_all": {"en": "Mark all handled", "fr": "Tout marquer traité"},
    "home_title": {"en": "Veille — {brand}", "fr": "Veille — {brand}"},
    "home_mine": {"en": "My open items ({n})", "fr": "Mes éléments ouverts ({n})"},
    "home_overdue": {"en": "Overdue ({n}) — open for more than {hours} h",
                     "fr": "En retard ({n}) — ouverts depuis plus de {hours} h"},
    "home_queue": {"en": "Team queue", "fr": "File de l'équipe"},
    "home_oncall": {"en": "On call now: {user}", "fr": "D'astreinte : {user}"},
    "home_nobody": {"en": "nobody configured", "fr": "personne"},
    "home_sources": {"en": "Sources", "fr": "Sources"},
    "home_calendar": {"en": "Next posts", "fr": "Prochaines publications"},
    "home_none": {"en": "Nothing here.", "fr": "Rien ici."},
    "value": {"en": "value", "fr": "valeur"},
}


def t(key: str, lang: Lang = "en", **params: object) -> str:
    """The sentence `key` in `lang`, with its parameters filled in."""
    return _STRINGS[key][lang].format(**params)
