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
    "value": {"en": "value", "fr": "valeur"},
    # Sources (monitors/poll.py, `/veille status`). Parameters are already escaped for mrkdwn.
    "source_auth_failed": {
        "en": ":warning: Source *{name}* ({network}) was refused by the network (HTTP {status}): its credentials "
              "are wrong, expired or lack a permission. Polling is *paused*. Fix `sources.{name}` in veille.yaml "
              "(or the environment variables it references) and restart Veille: polling resumes by itself once "
              "the source's configuration has changed.",
        "fr": ":warning: La source *{name}* ({network}) a été refusée par le réseau (HTTP {status}) : ses "
              "identifiants sont faux, expirés ou manquent d'une permission. La collecte est *en pause*. Corrigez "
              "`sources.{name}` dans veille.yaml (ou les variables d'environnement qu'elle cite) et redémarrez "
              "Veille : la collecte reprend d'elle-même dès que la configuration de la source a changé.",
    },
    "status_title": {"en": "Sources — {n} configured", "fr": "Sources — {n} configurées"},
    "status_empty": {"en": "No source is configured: add one under `sources:` in veille.yaml.",
                     "fr": "Aucune source configurée : ajoutez-en une sous `sources:` dans veille.yaml."},
    "status_help": {"en": "`/veille status` shows every source: state, last success, last error, items seen, "
                          "next poll.",
                    "fr": "`/veille status` montre chaque source : état, dernier succès, dernière erreur, "
                          "éléments vus, prochaine collecte."},
}


def t(key: str, lang: Lang = "en", **params: object) -> str:
    """The sentence `key` in `lang`, with its parameters filled in."""
    return _STRINGS[key][lang].format(**params)
