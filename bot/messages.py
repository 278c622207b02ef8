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
    # Personal data (bot/services/gdpr.py, bot/services/retention.py, `veille gdpr ...`).
    "gdpr_tombstone": {"en": "🗑 Content removed at the author's request (GDPR).",
                       "fr": "🗑 Contenu supprimé à la demande de son auteur (RGPD)."},
    "gdpr_removed": {"en": "[removed]", "fr": "[supprimé]"},
    "text_purged": {"en": "_Text removed under the retention policy._",
                    "fr": "_Texte supprimé selon la politique de conservation._"},
    "gdpr_nothing_held": {"en": "Nothing held about {network}/@{handle}.",
                          "fr": "Rien n'est conservé sur {network}/@{handle}."},
    "gdpr_forgot": {
        "en": "Forgot {network}/@{handle}: {mentions} item(s), {events} card event(s), {actions} reply text(s), "
              "{messages} Slack message(s) to rewrite, {incidents} incident(s), {rejected} item(s) set aside. "
              "The running bot replaces their cards in Slack with a tombstone.",
        "fr": "{network}/@{handle} oublié : {mentions} élément(s), {events} événement(s) de carte, "
              "{actions} texte(s) de réponse, {messages} message(s) Slack à réécrire, {incidents} incident(s), "
              "{rejected} élément(s) mis de côté. Le bot en marche remplace leurs cartes dans Slack par une "
              "mention de suppression.",
    },
    "gdpr_exported": {"en": "Wrote what is held about {network}/@{handle} ({mentions} item(s)) to {path}.",
                      "fr": "Ce qui est conservé sur {network}/@{handle} ({mentions} élément(s)) est dans {path}."},
    "gdpr_unknown_network": {"en": "Unknown network {network!r}; expected one of {choices}.",
                             "fr": "Réseau {network!r} inconnu ; attendu : {choices}."},
    "gdpr_bad_handle": {"en": "Give the author's handle, e.g. `veille gdpr forget x jane_doe`.",
                        "fr": "Donnez l'identifiant de l'auteur, par ex. `veille gdpr forget x jane_doe`."},
    "gdpr_purge": {
        "en": "{verb}: {texts} text(s), {raws} raw payload(s), {authors} author(s), {rejected} item(s) set aside, "
              "{own_posts} own post payload(s), {actions} reply text(s), {events} card event(s), "
              "{messages} Slack message copy(ies), {incidents} incident(s) — in {batches} batch(es). {policy}",
        "fr": "{verb} : {texts} texte(s), {raws} charge(s) brute(s), {authors} auteur(s), {rejected} élément(s) "
              "mis de côté, {own_posts} charge(s) de nos publications, {actions} texte(s) de réponse, "
              "{events} événement(s) de carte, {messages} copie(s) de message Slack, {incidents} incident(s) — "
              "en {batches} lot(s). {policy}",
    },
    "gdpr_purge_done": {"en": "Purged", "fr": "Purgé"},
    "gdpr_purge_would": {"en": "Would purge (dry run, nothing changed)", "fr": "Serait purgé (essai, rien modifié)"},
    "gdpr_policy": {"en": "Policy: raw payloads {raw}, texts {text}.", "fr": "Politique : charges brutes {raw}, "
                                                                           "textes {text}."},
    "gdpr_days": {"en": "{n} days", "fr": "{n} jours"},
    "gdpr_keep": {"en": "kept", "fr": "conservés"},
    "unexpected_error": {
        "en": "Something went wrong on our side (error id {cid}). Nothing was changed; please try again.",
        "fr": "Une erreur s'est produite de notre côté (identifiant {cid}). Rien n'a été modifié ; réessayez.",
    },
    "unknown_subcommand": {
        "en": "I don't know `{command} {arg}`.{hint} Try `{command} help`.",
        "fr": "Je ne connais pas `{command} {arg}`.{hint} Essayez `{command} help`.",
    },
    "did_you_mean": {"en": " Did you mean `{suggestion}`?", "fr": " Vouliez-vous dire `{suggestion}` ?"},
    "kpi_by_network": {"en": "By network: {parts}", "fr": "Par réseau : {parts}"},
    # /kpi chart (bot/render/charts.py, handlers/commands/kpi_extra.py)
    "chart_title_volume": {"en": "Mentions per day", "fr": "Mentions par jour"},
    "chart_title_sentiment": {"en": "Sentiment per day", "fr": "Sentiment par jour"},
    "chart_title_response": {"en": "Median first-response time per day",
                             "fr": "Délai médian de première réponse par jour"},
    "chart_title_engagement": {"en": "Engagement per own post, per day",
                               "fr": "Engagement par publication, par jour"},
    "chart_day_axis": {"en": "Day ({tz})", "fr": "Jour ({tz})"},
    "chart_no_data": {"en": "No data for this period", "fr": "Aucune donnée sur cette période"},
    "chart_items": {"en": "Items", "fr": "Éléments"},
    "chart_other": {"en": "Other", "fr": "Autres"},
    "chart_positive": {"en": "Positive", "fr": "Positif"},
    "chart_neutral": {"en": "Neutral", "fr": "Neutre"},
    "chart_negative": {"en": "Negative", "fr": "Négatif"},
    "chart_share": {"en": "Share of the day's items (%)", "fr": "Part des éléments du jour (%)"},
    "chart_net_sentiment": {"en": "Net sentiment", "fr": "Sentiment net"},
    "chart_net_axis": {"en": "Net sentiment (%)", "fr": "Sentiment net (%)"},
    "chart_minutes": {"en": "minutes", "fr": "minutes"},
    "chart_hours": {"en": "hours", "fr": "heures"},
    "chart_median_day": {"en": "Median of the day", "fr": "Médiane du jour"},
    "chart_median_period": {"en": "Period median: {value}", "fr": "Médiane de la période : {value}"},
    "chart_likes": {"en": "Likes", "fr": "J'aime"},
    "chart_comments": {"en": "Comments", "fr": "Commentaires"},
    "chart_shares": {"en": "Shares", "fr": "Partages"},
    "chart_per_post": {"en": "Average per post", "fr": "Moyenne par publication"},
    "chart_usage": {
        "en": "Usage: `/kpi chart [metric] [period] [network]` — metric: `volume` (default), `sentiment`, "
              "`response` or `engagement`; period: `30d` (default), `7d`, `2w`, `month`, `2026-11-01..2026-11-15`; "
              "network: x, instagram, …",
        "fr": "Usage : `/kpi chart [métrique] [période] [réseau]` — métrique : `volume` (par défaut), `sentiment`, "
              "`response` ou `engagement` ; période : `30d` (par défaut), `7d`, `2w`, `month`, "
              "`2026-11-01..2026-11-15` ; réseau : x, instagram, …",
    },
    "chart_unknown_arg": {"en": "I don't know `{arg}` in `/kpi chart`.{hint}",
                          "fr": "Je ne connais pas `{arg}` dans `/kpi chart`.{hint}"},
    "chart_on_its_way": {"en": "📈 Drawing the chart; it will appear in this channel in a few seconds.",
                         "fr": "📈 Je dessine le graphique ; il apparaîtra dans ce canal dans quelques secondes."},
    "chart_file_title": {"en": "{metric} — {span}", "fr": "{metric} — {span}"},
    "chart_not_in_channel": {
        "en": "I can't post the chart here: invite me first with `/invite @Veille`, then try again.",
        "fr": "Je ne peux pas publier le graphique ici : invitez-moi d'abord avec `/invite @Veille`, puis réessayez.",
    },
    "chart_upload_failed": {
        "en": "The chart could not be uploaded (Slack said `{code}`). Please try again in a minute.",
        "fr": "Le graphique n'a pas pu être envoyé (Slack a répondu `{code}`). Réessayez dans une minute.",
    },
    "chart_failed": {
        "en": "The chart could not be drawn (error id {cid}); please try again.",
        "fr": "Le graphique n'a pas pu être dessiné (identifiant {cid}) ; réessayez.",
    },
    # /kpi roi (bot/services/roi.py, handlers/commands/kpi_extra.py)
    "roi_title": {"en": "Campaign ROI — {span}", "fr": "ROI des campagnes — {span}"},
    "roi_empty": {
        "en": "No campaign results for this period. Push them to `/hooks/roi/<name>` or import a CSV with "
              "`veille roi import results.csv`.",
        "fr": "Aucun résultat de campagne sur cette période. Envoyez-les à `/hooks/roi/<nom>` ou importez un CSV "
              "avec `veille roi import resultats.csv`.",
    },
    "roi_counts": {
        "en": "{impressions} impressions · {clicks} clicks · {conversions} conversions · {leads} leads · "
              "spend {spend}",
        "fr": "{impressions} impressions · {clicks} clics · {conversions} conversions · {leads} leads · "
              "dépense {spend}",
    },
    "roi_ctr": {"en": "CTR", "fr": "Taux de clic"},
    "roi_conversion_rate": {"en": "Conversion rate", "fr": "Taux de conversion"},
    "roi_cost_per_lead": {"en": "Cost per lead", "fr": "Coût par lead"},
    "roi_no_figure": {"en": "n/a", "fr": "n/d"},
    "roi_target_met": {"en": "✅ target {op} {target}", "fr": "✅ objectif {op} {target}"},
    "roi_target_missed": {"en": "⚠️ below target {op} {target}", "fr": "⚠️ sous l'objectif {op} {target}"},
    "roi_target_unknown": {"en": "target {op} {target}", "fr": "objectif {op} {target}"},
    "roi_total": {"en": "All campaigns", "fr": "Toutes les campagnes"},
    "roi_more": {"en": "…and {n} more campaign(s); name one: `/kpi roi 30d <campaign>`.",
                 "fr": "…et {n} autre(s) campagne(s) ; nommez-en une : `/kpi roi 30d <campagne>`."},
    "roi_usage": {
        "en": "Usage: `/kpi roi [period] [campaign]` — period: `30d` (default), `7d`, `month`, "
              "`2026-11-01..2026-11-15`; campaign: its name as pushed.",
        "fr": "Usage : `/kpi roi [période] [campagne]` — période : `30d` (par défaut), `7d`, `month`, "
              "`2026-11-01..2026-11-15` ; campagne : son nom tel qu'envoyé.",
    },
    "kpi_help": {
        "en": "`/kpi [period] [network] [public]` — period: `7d` (default), `24h`, `30d`, `week`, `month` or "
              "`2026-11-01..2026-11-15`; network: x, instagram, …; `public` posts the answer in the channel.\n"
              "`/kpi posts [period] [network]` — best hours, formats and pillars of our posts (default 90d).\n"
              "`/kpi chart [metric] [period]` — a chart · `/kpi roi [period]` — clicks, conversions, leads.",
        "fr": "`/kpi [période] [réseau] [public]` — période : `7d` (par défaut), `24h`, `30d`, `week`, `month` ou "
              "`2026-11-01..2026-11-15` ; réseau : x, instagram, … ; `public` publie la réponse dans le canal.\n"
              "`/kpi posts [période] [réseau]` — meilleures heures, formats et piliers de nos posts (90d par défaut).\n"
              "`/kpi chart [métrique] [période]` — un graphique · `/kpi roi [période]` — clics, conversions, leads.",
    },
    "kpi_bad_period": {
        "en": "`{period}` is not a period I can use: give 1 to {max} days (`30d`), hours (`24h`), weeks (`2w`), "
              "`week`, `month`, or two dates `2026-11-01..2026-11-15` (the first before the second).",
        "fr": "`{period}` n'est pas une période utilisable : indiquez de 1 à {max} jours (`30d`), des heures (`24h`), "
              "des semaines (`2w`), `week`, `month`, ou deux dates `2026-11-01..2026-11-15` (la première avant).",
    },
    "kpi_extra_unavailable": {"en": "`/kpi {what}` is not available yet in this version of Veille.",
                              "fr": "`/kpi {what}` n'est pas encore disponible dans cette version de Veille."},
    "kpi_report_title": {"en": "KPIs — {brand} · {period}", "fr": "Indicateurs — {brand} · {period}"},
    "kpi_range": {"en": "{start} → {end} ({tz}){network}", "fr": "{start} → {end} ({tz}){network}"},
    "kpi_volume": {"en": "*Volume:* *{n}* items · {trend}", "fr": "*Volume :* *{n}* éléments · {trend}"},
    "kpi_trend": {"en": "{arrow} {pct} vs the previous period ({prev})",
                  "fr": "{arrow} {pct} par rapport à la période précédente ({prev})"},
    "kpi_trend_none": {"en": "no items in the previous period", "fr": "aucun élément sur la période précédente"},
    "kpi_sentiment": {
        "en": "*Sentiment:* 🟢 {pos} positive · ⚪ {neu} neutral · 🔴 {neg} negative · net sentiment *{net}*",
        "fr": "*Sentiment :* 🟢 {pos} positifs · ⚪ {neu} neutres · 🔴 {neg} négatifs · sentiment net *{net}*",
    },
    "kpi_responses": {
        "en": "*Responses:* response rate *{rate}* ({responded} of {called}) · median first response *{median}*",
        "fr": "*Réponses :* taux de réponse *{rate}* ({responded} sur {called}) · "
              "délai médian de première réponse *{median}*",
    },
    "kpi_period_consistency": {"en": "Rule consistency", "fr": "Constance des règles"},
    "kpi_breaches": {"en": "Deadline breaches", "fr": "Échéances dépassées"},
    "kpi_breach_line": {"en": "• {rule}: {late} late, {missed} missed, of {due} due",
                        "fr": "• {rule} : {late} en retard, {missed} manquées, sur {due} à échéance"},
    "kpi_owners": {"en": "Open items by owner", "fr": "Éléments ouverts par responsable"},
    "kpi_owner_line": {"en": "• {owner}: {open} open, {overdue} overdue",
                       "fr": "• {owner} : {open} ouverts, {overdue} en retard"},
    "kpi_unassigned": {"en": "unassigned", "fr": "non attribués"},
    "kpi_top_authors": {"en": "Top authors", "fr": "Auteurs les plus actifs"},
    "kpi_influencers": {"en": "Influencers", "fr": "Influenceurs"},
    "kpi_author_line": {"en": "• {handle} ({network}{followers}) — {n} item(s)",
                        "fr": "• {handle} ({network}{followers}) — {n} élément(s)"},
    "kpi_share_of_voice": {"en": "*Share of voice:* {parts}", "fr": "*Part de voix :* {parts}"},
    "kpi_sov_unlistened": {
        "en": "_Share of voice leaves out {names}: no source listens to them (add one with `subject:` in veille.yaml)._",
        "fr": "_La part de voix ne compte pas {names} : aucune source ne les écoute (ajoutez-en une avec `subject:` "
              "dans veille.yaml)._",
    },
    "kpi_objectives": {"en": "Objectives", "fr": "Objectifs"},
    "kpi_objective_line": {
        "en": "{icon} *{title}*: {current} (target {target}) · progress {progress}{projection}{deadline}",
        "fr": "{icon} *{title}* : {current} (cible {target}) · progression {progress}{projection}{deadline}",
    },
    "kpi_projection": {"en": " · projected {value}", "fr": " · projection {value}"},
    "kpi_deadline": {"en": " by {date}", "fr": " au {date}"},
    "kpi_verdict_on_track": {"en": "on track", "fr": "en bonne voie"},
    "kpi_verdict_at_risk": {"en": "at risk", "fr": "en danger"},
    "kpi_verdict_met": {"en": "met", "fr": "atteint"},
    "kpi_verdict_missed": {"en": "missed", "fr": "manqué"},
    "kpi_verdict_no_data": {"en": "no data for this period", "fr": "pas de données sur la période"},
    "kpi_verdict_unavailable": {"en": "ROI figures not available yet", "fr": "chiffres ROI pas encore disponibles"},
    "kpi_footer": {"en": "More: `/kpi posts` · `/kpi chart` · `/kpi roi` · `/kpi help`",
                   "fr": "Plus : `/kpi posts` · `/kpi chart` · `/kpi roi` · `/kpi help`"},
    "kpi_posts_title": {"en": "What our posts earn — {period}", "fr": "Ce que rapportent nos posts — {period}"},
    "kpi_posts_none": {"en": "None of our posts was published in this period.",
                       "fr": "Aucun de nos posts n'a été publié sur cette période."},
    "kpi_posts_intro": {
        "en": "{n} post(s). Engagement = likes + comments + shares, mean per post (n = posts). "
              "Groups under {min} posts are not ranked: too few to conclude.",
        "fr": "{n} post(s). Engagement = j'aime + commentaires + partages, moyenne par post (n = posts). "
              "Les groupes de moins de {min} posts ne sont pas classés : trop peu pour conclure.",
    },
    "kpi_best_hours": {"en": "Best hours ({tz})", "fr": "Meilleures heures ({tz})"},
    "kpi_best_days": {"en": "Best days", "fr": "Meilleurs jours"},
    "kpi_formats": {"en": "Formats", "fr": "Formats"},
    "kpi_pillars": {"en": "Content pillars", "fr": "Piliers de contenu"},
    "kpi_group_line": {"en": "• {name}: {mean} per post (n = {n}){flag}",
                       "fr": "• {name} : {mean} par post (n = {n}){flag}"},
    "kpi_small_sample": {"en": " — too few to conclude", "fr": " — trop peu pour conclure"},
    "kpi_no_reliable": {"en": "not enough posts in any group yet", "fr": "pas encore assez de posts par groupe"},
    "kpi_digest_title": {"en": "📊 Weekly KPIs — {brand}, week of {monday}",
                         "fr": "📊 Indicateurs de la semaine — {brand}, semaine du {monday}"},
    "kpi_digest_period": {"en": "week {start}–{end}", "fr": "semaine du {start} au {end}"},
    "kpi_digest_chart": {"en": "Items per day, {period}", "fr": "Éléments par jour, {period}"},
    "calendar_title": {"en": "Content calendar — next {days} days",
                       "fr": "Calendrier éditorial — {days} prochains jours"},
    "calendar_title_today": {"en": "Content calendar — today, {date}", "fr": "Calendrier éditorial — aujourd'hui, {date}"},
    "calendar_title_week": {"en": "Content calendar — week of {date}", "fr": "Calendrier éditorial — semaine du {date}"},
    "calendar_title_month": {"en": "Content calendar — {month}", "fr": "Calendrier éditorial — {month}"},
    "calendar_empty": {
        "en": "Nothing planned in this period. Plan a post with `/calendar add`.",
        "fr": "Rien de prévu sur cette période. Planifiez une publication avec `/calendar add`.",
    },
    "calendar_help": {
        "en": "*`/calendar`* — the content calendar.\n"
              "• `/calendar` — the next 7 days, grouped by day, with the warnings a planner needs\n"
              "• `/calendar today` · `/calendar week` (Monday to Sunday) · `/calendar month`\n"
              "• `/calendar instagram` (any network: {networks}), also with a period: `/calendar month x`\n"
              "• `/calendar add` — plan a post (team members)\n"
              "• `/calendar export` — the calendar as an .ics file for your agenda\n"
              "• `/calendar import` — paste CSV or ICS (admins; the same as `veille calendar import FILE`)\n"
              "Each post has Edit, Cancel and Mark published. Owners get a DM before a post is due, and a nudge if "
              "it is not marked published afterwards.",
        "fr": "*`/calendar`* — le calendrier éditorial.\n"
              "• `/calendar` — les 7 prochains jours, jour par jour, avec les alertes utiles au planning\n"
              "• `/calendar today` · `/calendar week` (lundi à dimanche) · `/calendar month`\n"
              "• `/calendar instagram` (tout réseau : {networks}), aussi avec une période : `/calendar month x`\n"
              "• `/calendar add` — planifier une publication (équipe)\n"
              "• `/calendar export` — le calendrier en fichier .ics pour votre agenda\n"
              "• `/calendar import` — coller du CSV ou de l'ICS (admins ; comme `veille calendar import FICHIER`)\n"
              "Chaque publication a Modifier, Annuler et Marquer publiée. Le responsable reçoit un message avant "
              "l'échéance, et une relance si elle n'est pas marquée publiée ensuite.",
    },
    "cal_weekdays": {"en": "Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday",
                     "fr": "lundi,mardi,mercredi,jeudi,vendredi,samedi,dimanche"},
    "cal_months": {"en": "January,February,March,April,May,June,July,August,September,October,November,December",
                   "fr": "janvier,février,mars,avril,mai,juin,juillet,août,septembre,octobre,novembre,décembre"},
    "cal_day": {"en": "{weekday} {day} {month}", "fr": "{weekday} {day} {month}"},
    "cal_more": {"en": "…and {n} more posts: narrow with `/calendar today` or `/calendar <network>`.",
                 "fr": "…et {n} autres publications : affinez avec `/calendar today` ou `/calendar <réseau>`."},
    "cal_compact": {"en": "Too many posts for buttons: `/calendar today` or `/calendar <network>` shows them with "
                          "Edit, Cancel and Mark published.",
                    "fr": "Trop de publications pour les boutons : `/calendar today` ou `/calendar <réseau>` les "
                          "affiche avec Modifier, Annuler et Marquer publiée."},
    "cal_close": {"en": "Close", "fr": "Fermer"},
    "cal_edit": {"en": "Edit", "fr": "Modifier"},
    "cal_cancel": {"en": "Cancel", "fr": "Annuler"},
    "cal_publish": {"en": "Mark published", "fr": "Marquer publiée"},
    "cal_cancel_confirm_title": {"en": "Cancel this post?", "fr": "Annuler cette publication ?"},
    "cal_cancel_confirm_text": {"en": "“{title}” leaves the calendar and gets no reminder.",
                                "fr": "« {title} » quitte le calendrier et n'aura pas de rappel."},
    "cal_cancel_confirm_yes": {"en": "Cancel the post", "fr": "Annuler la publication"},
    "cal_cancel_confirm_no": {"en": "Keep it", "fr": "La garder"},
    "cal_modal_add": {"en": "Plan a post", "fr": "Planifier"},
    "cal_modal_edit": {"en": "Edit the post", "fr": "Modifier"},
    "cal_network": {"en": "Network", "fr": "Réseau"},
    "cal_date": {"en": "Date", "fr": "Date"},
    "cal_time": {"en": "Time ({tz})", "fr": "Heure ({tz})"},
    "cal_title_label": {"en": "Title", "fr": "Titre"},
    "cal_pillar": {"en": "Content pillar", "fr": "Pilier éditorial"},
    "cal_kind": {"en": "Content", "fr": "Contenu"},
    "cal_kind_value": {"en": "Value (inform, help, entertain)", "fr": "Valeur (informer, aider, divertir)"},
    "cal_kind_promo": {"en": "Promotional (sell)", "fr": "Promotionnel (vendre)"},
    "cal_format": {"en": "Format", "fr": "Format"},
    "cal_format_status": {"en": "Text", "fr": "Texte"},
    "cal_format_image": {"en": "Image", "fr": "Image"},
    "cal_format_video": {"en": "Video", "fr": "Vidéo"},
    "cal_format_link": {"en": "Link", "fr": "Lien"},
    "cal_owner": {"en": "Owner", "fr": "Responsable"},
    "cal_status": {"en": "Status", "fr": "Statut"},
    "cal_status_draft": {"en": "draft", "fr": "brouillon"},
    "cal_status_scheduled": {"en": "scheduled", "fr": "programmée"},
    "cal_status_published": {"en": "published", "fr": "publiée"},
    "cal_status_cancelled": {"en": "cancelled", "fr": "annulée"},
    "cal_modal_hint": {"en": "Times are in {tz}. The owner gets a DM {minutes} min before the post is due.",
                       "fr": "Les heures sont en {tz}. Le responsable reçoit un message {minutes} min avant."},
    "cal_link": {"en": "Link to the post (optional)", "fr": "Lien vers la publication (facultatif)"},
    "cal_external_id": {"en": "The network's post id (optional)", "fr": "Identifiant sur le réseau (facultatif)"},
    "cal_publish_hint": {
        "en": "Veille watches the comments on this post more closely for the next hours. The link and id let it "
              "tie the network's comments to this post (a connector fills them by itself when it sees the post).",
        "fr": "Veille surveille de plus près les commentaires sur cette publication pendant les prochaines heures. "
              "Le lien et l'identifiant lui permettent de relier les commentaires à cette publication (un "
              "connecteur les remplit seul quand il la voit).",
    },
    "cal_err_title": {"en": "Give the post a title.", "fr": "Donnez un titre à la publication."},
    "cal_err_network": {"en": "Pick a network.", "fr": "Choisissez un réseau."},
    "cal_err_date": {"en": "Pick a date.", "fr": "Choisissez une date."},
    "cal_err_time": {"en": "Pick a time.", "fr": "Choisissez une heure."},
    "cal_err_past": {
        "en": "{at} has passed: pick a time ahead, or set the status to published.",
        "fr": "{at} est passé : choisissez une heure à venir, ou le statut publiée.",
    },
    "cal_err_link": {"en": "A link starts with https:// (or http://).",
                     "fr": "Un lien commence par https:// (ou http://)."},
    "cal_err_owner": {"en": "The owner must be a person of this workspace.",
                      "fr": "Le responsable doit être une personne de cet espace."},
    "cal_saved": {"en": "Saved: {post}", "fr": "Enregistré : {post}"},
    "cal_cancelled": {"en": "Cancelled: {title}", "fr": "Annulée : {title}"},
    "cal_published": {
        "en": "✅ Marked published: {title}. The buzz watch is on for its comments.",
        "fr": "✅ Marquée publiée : {title}. La surveillance des commentaires est activée.",
    },
    "cal_not_team": {
        "en": "Only the team can change the calendar: ask an admin ({admins}) to add you to a responsibility in "
              "veille.yaml.",
        "fr": "Seule l'équipe peut modifier le calendrier : demandez à un admin ({admins}) de vous ajouter à une "
              "responsabilité dans veille.yaml.",
    },
    "cal_admin_only": {"en": "Only admins ({admins}) can import into the calendar.",
                       "fr": "Seuls les admins ({admins}) peuvent importer dans le calendrier."},
    "cal_post_gone": {"en": "This post no longer exists in the calendar.",
                      "fr": "Cette publication n'existe plus dans le calendrier."},
    "cal_warnings": {"en": "⚠️ Warnings", "fr": "⚠️ Alertes"},
    "cal_every_days": {"en": "one every {n} days", "fr": "une tous les {n} jours"},
    "cal_per_day": {"en": "{n} a day", "fr": "{n} par jour"},
    "cal_gap": {
        "en": "• No {network}{format} post for {days} days ({start} → {end}) while the objective is {every}.",
        "fr": "• Aucune publication {network}{format} pendant {days} jours ({start} → {end}) alors que "
              "l'objectif est {every}.",
    },
    "cal_mix_over": {
        "en": "• Next {days} days: {promo} of {total} posts are promotional ({share} %); the 80/20 rule wants at "
              "most {max} %: turn {convert} into value content{add}.",
        "fr": "• {days} prochains jours : {promo} publications sur {total} sont promotionnelles ({share} %) ; la "
              "règle des 80/20 en veut au plus {max} % : passez-en {convert} en contenu de valeur{add}.",
    },
    "cal_mix_add": {"en": ", or add {n} value posts", "fr": ", ou ajoutez {n} publications de valeur"},
    "cal_mix_ok": {
        "en": "Mix over the next {days} days: {promo} promotional, {value} value ({share} % promotional; at most {max} %).",
        "fr": "Mix des {days} prochains jours : {promo} promotionnelles, {value} de valeur ({share} % "
              "promotionnelles ; au plus {max} %).",
    },
    "cal_too_close": {
        "en": "• {network}: “{first}” ({first_at}) and “{second}” ({second_at}) are only {gap} apart; keep at "
              "least {min} h between two posts.",
        "fr": "• {network} : « {first} » ({first_at}) et « {second} » ({second_at}) ne sont qu'à {gap} "
              "d'écart ; gardez au moins {min} h entre deux publications.",
    },
    "cal_bad_hour": {
        "en": "• “{title}” ({network}, {at}): our {network} posts at {hour}:00 average {avg} interactions, "
              "well below the median hour ({median}); {best}:00 does best ({best_avg}).",
        "fr": "• « {title} » ({network}, {at}) : nos publications {network} de {hour} h font en moyenne {avg} "
              "interactions, bien moins que l'heure médiane ({median}) ; {best} h fait le mieux ({best_avg}).",
    },
    "cal_reminder": {
        "en": "⏰ Due in {minutes} min on {network} ({at}): *{title}*. Once it is live, click Mark published in "
              "`/calendar`.",
        "fr": "⏰ À publier dans {minutes} min sur {network} ({at}) : *{title}*. Une fois en ligne, cliquez Marquer "
              "publiée dans `/calendar`.",
    },
    "cal_nudge": {
        "en": "⚠️ *{title}* was due on {network} at {at} and is not marked published. If it is live, click Mark "
              "published in `/calendar`; if not, edit or cancel it.",
        "fr": "⚠️ *{title}* devait paraître sur {network} à {at} et n'est pas marquée publiée. Si elle est en "
              "ligne, cliquez Marquer publiée dans `/calendar` ; sinon, modifiez-la ou annulez-la.",
    },
    "cal_import_title": {"en": "Import posts", "fr": "Importer"},
    "cal_import_label": {"en": "CSV (with a header line) or ICS text", "fr": "Texte CSV (avec en-tête) ou ICS"},
    "cal_import_submit": {"en": "Import", "fr": "Importer"},
    "cal_import_hint": {
        "en": "CSV columns: `network`, `date` (YYYY-MM-DD), `time` (HH:MM, {tz}) — or one `datetime` (ISO 8601) — "
              "and `title` are required; optional: `pillar`, `type` (promo or value), `format` (status, image, "
              "video, link), `owner` (Slack user id), `status` (draft, scheduled, published, cancelled), `link`, "
              "`uid`. Re-importing a row with the same `uid` (or, without one, the same network, time and title) "
              "updates the post instead of adding it again. ICS: one VEVENT per post (UID, DTSTART, SUMMARY, "
              "X-VEILLE-NETWORK or a network in LOCATION/CATEGORIES).",
        "fr": "Colonnes CSV : `network`, `date` (AAAA-MM-JJ), `time` (HH:MM, {tz}) — ou une colonne `datetime` "
              "(ISO 8601) — et `title` sont obligatoires ; facultatives : `pillar`, `type` (promo ou value), "
              "`format` (status, image, video, link), `owner` (identifiant Slack), `status` (draft, scheduled, "
              "published, cancelled), `link`, `uid`. Réimporter une ligne de même `uid` (ou, sans uid, même "
              "réseau, heure et titre) met la publication à jour sans la dupliquer. ICS : un VEVENT par "
              "publication (UID, DTSTART, SUMMARY, X-VEILLE-NETWORK ou un réseau dans LOCATION/CATEGORIES).",
    },
    "cal_import_done": {
        "en": "Calendar import: {created} added, {updated} updated, {errors} line(s) with errors.",
        "fr": "Import du calendrier : {created} ajoutées, {updated} mises à jour, {errors} ligne(s) en erreur.",
    },
    "cal_import_line": {"en": "Line {line}, {field}: {problem}", "fr": "Ligne {line}, {field} : {problem}"},
    "cal_export_comment": {"en": "Content calendar: {n} posts, {start} → {end} (import it into any agenda).",
                           "fr": "Calendrier éditorial : {n} publications, {start} → {end} (à importer dans "
                                 "tout agenda)."},
    "cal_export_failed": {"en": "I could not upload the .ics here (Slack said {error}): invite me to this channel, or "
                                "run `/calendar export` in a channel I am in.",
                          "fr": "Je n'ai pas pu déposer le .ics ici (Slack : {error}) : invitez-moi dans ce canal, ou "
                                "lancez `/calendar export` dans un canal où je suis."},
    "io_missing": {"en": "is empty; fill it in", "fr": "est vide ; remplissez-le"},
    "io_network": {"en": "unknown network {value!r}; use one of {allowed}",
                   "fr": "réseau inconnu {value!r} ; utilisez l'un de {allowed}"},
    "io_date": {"en": "{value!r} is not a date; write it as 2026-11-24", "fr": "{value!r} n'est pas une date ; "
                "écrivez-la 2026-11-24"},
    "io_time": {"en": "{value!r} is not a time; write it as 14:30", "fr": "{value!r} n'est pas une heure ; "
                "écrivez-la 14:30"},
    "io_datetime": {"en": "{value!r} is not a date and time; write it as 2026-11-24T14:30:00+01:00",
                    "fr": "{value!r} n'est pas une date et heure ; écrivez-la 2026-11-24T14:30:00+01:00"},
    "io_choice": {"en": "{value!r} is not one of {allowed}", "fr": "{value!r} n'est pas l'un de {allowed}"},
    "io_user": {"en": "{value!r} is not a Slack user id (like U0123ABCD)",
                "fr": "{value!r} n'est pas un identifiant Slack (comme U0123ABCD)"},
    "io_link": {"en": "{value!r} is not a link; it must start with https://",
                "fr": "{value!r} n'est pas un lien ; il doit commencer par https://"},
    "io_too_long": {"en": "is longer than {n} characters; shorten it", "fr": "dépasse {n} caractères ; raccourcissez-le"},
    "io_columns": {"en": "missing column(s) {columns}; the header line needs network, title and date + time "
                         "(or datetime)",
                   "fr": "colonne(s) manquante(s) {columns} ; l'en-tête doit avoir network, title et date + time "
                         "(ou datetime)"},
    "io_unknown_format": {"en": "neither CSV with a header line nor ICS (BEGIN:VCALENDAR); check the file",
                          "fr": "ni du CSV avec en-tête ni de l'ICS (BEGIN:VCALENDAR) ; vérifiez le fichier"},
    "io_bad_ics": {"en": "not a valid ICS file ({problem}); export it again from your agenda",
                   "fr": "fichier ICS invalide ({problem}) ; exportez-le à nouveau depuis votre agenda"},
    "io_duplicate": {"en": "uid {value!r} is already used on line {first}; give each post its own uid",
                     "fr": "l'uid {value!r} est déjà utilisé ligne {first} ; donnez à chaque publication son uid"},
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
    "history_reply_drafted": {"en": "✍️ {user} drafted a reply: «{text}»",
                              "fr": "✍️ {user} a rédigé une réponse : «{text}»"},
    "history_hide_requested": {"en": "🙈 {user} asked to hide it", "fr": "🙈 {user} a demandé à le masquer"},
    "history_reply_approved": {"en": "👍 {user} approved the reply", "fr": "👍 {user} a validé la réponse"},
    "history_reply_rejected": {"en": "👎 {user} rejected the reply", "fr": "👎 {user} a refusé la réponse"},
    "history_replied": {"en": "💬 Reply sent on the network ({user}): «{text}»",
                        "fr": "💬 Réponse publiée sur le réseau ({user}) : «{text}»"},
    "history_hidden": {"en": "🙈 Hidden on the network ({user})", "fr": "🙈 Masqué sur le réseau ({user})"},
    "history_action_failed": {"en": "⚠️ Could not do it on the network: {error}",
                              "fr": "⚠️ Impossible sur le réseau : {error}"},
    "reply": {"en": "Reply", "fr": "Répondre"},
    "thank": {"en": "Thank", "fr": "Remercier"},
    "hide": {"en": "Hide", "fr": "Masquer"},
    "approve": {"en": "Approve reply", "fr": "Valider la réponse"},
    "reject": {"en": "Reject", "fr": "Refuser"},
    "hide_confirm_title": {"en": "Hide this comment?", "fr": "Masquer ce commentaire ?"},
    "hide_confirm_text": {"en": "It will be hidden from the public on {network}.",
                          "fr": "Il sera masqué du public sur {network}."},
    "confirm": {"en": "Hide it", "fr": "Masquer"},
    "cancel": {"en": "Cancel", "fr": "Annuler"},
    "reply_modal_title": {"en": "Reply on {network}", "fr": "Répondre sur {network}"},
    "reply_modal_label": {"en": "Your reply to @{handle}", "fr": "Votre réponse à @{handle}"},
    "reply_modal_hint": {"en": "Posted publicly on {network}{approval}.", "fr": "Publié sur {network}{approval}."},
    "reply_modal_needs_approval": {"en": " after approval by {approvers}", "fr": " après validation par {approvers}"},
    "send": {"en": "Send", "fr": "Envoyer"},
    "thank_template": {"en": "Thank you so much, {name}! 💛", "fr": "Merci beaucoup {name} ! 💛"},
    "reply_empty": {"en": "The reply is empty.", "fr": "La réponse est vide."},
    "reply_too_long": {"en": "{n} characters: this network allows {limit}.",
                       "fr": "{n} caractères : ce réseau en accepte {limit}."},
    "action_in_progress": {"en": "A reply or hide is already in progress on this item.",
                           "fr": "Une réponse ou un masquage est déjà en cours sur cet élément."},
    "not_an_approver": {"en": "Only {approvers} can approve replies here.",
                        "fr": "Seuls {approvers} peuvent valider les réponses ici."},
    "card_awaiting": {"en": "✍️ Reply drafted by {user}, waiting for {approvers}: «{text}»",
                      "fr": "✍️ Réponse rédigée par {user}, en attente de {approvers} : «{text}»"},
    "card_sending": {"en": "⏳ Sending on the network…", "fr": "⏳ Envoi sur le réseau…"},
    "card_failed": {"en": "⚠️ Not done on the network: {error}", "fr": "⚠️ Échec sur le réseau : {error}"},
    "card_replied": {"en": "💬 Replied by {user}{approved}: «{text}»",
                     "fr": "💬 Répondu par {user}{approved} : «{text}»"},
    "card_approved_by": {"en": " (approved by {user})", "fr": " (validé par {user})"},
    "card_hidden": {"en": "🙈 Hidden by {user}", "fr": "🙈 Masqué par {user}"},
    "incident_spike_title": {"en": "{n} negative mentions{about} in {minutes} min (usually {baseline})",
                             "fr": "{n} mentions négatives{about} en {minutes} min (d'habitude {baseline})"},
    "incident_from_card": {"en": "Escalated: {text}", "fr": "Escaladé : {text}"},
    "incident_updated": {"en": "📈 Still rising: {n} negative mentions (usually {baseline}); {added} more items attached",
                         "fr": "📈 Ça continue : {n} mentions négatives (d'habitude {baseline}) ; {added} éléments de plus"},
    "incident_item_added": {"en": "➕ {user} escalated an item: «{text}»", "fr": "➕ {user} a escaladé : «{text}»"},
    "incident_acked": {"en": "🙋 {user} acknowledged after {minutes} min: paging stops",
                       "fr": "🙋 {user} a pris en charge après {minutes} min : fin des appels"},
    "incident_summary": {
        "en": "✅ Resolved by {user}: *{title}* — lasted {duration}; {n} items ({negative} negative); acknowledged "
              "after {ack} by {ack_by}; done: {handled} handled, {replied} replies, {hidden} hidden.",
        "fr": "✅ Résolu par {user} : *{title}* — durée {duration} ; {n} éléments ({negative} négatifs) ; pris en "
              "charge après {ack} par {ack_by} ; fait : {handled} traités, {replied} réponses, {hidden} masqués.",
    },
    "incident_bad_severity": {"en": "Severity must be one of {choices}.", "fr": "Sévérité possible : {choices}."},
    "incident_ack": {"en": "Acknowledge", "fr": "Je prends"},
    "incident_resolve": {"en": "Resolve", "fr": "Résolu"},
    "page_text": {"en": "🚨 You are paged (level {level}): {title}", "fr": "🚨 Vous êtes appelé (niveau {level}) : {title}"},
    "page_dm": {"en": "🚨 *{title}*\n{severity} · level {level} · acknowledge to stop the paging",
                "fr": "🚨 *{title}*\n{severity} · niveau {level} · prenez en charge pour arrêter les appels"},
    "page_channel": {"en": "📟 Paging {users} (level {level}) for: {title}",
                     "fr": "📟 Appel de {users} (niveau {level}) pour : {title}"},
    "incident_status_open": {"en": "🔴 open — paging", "fr": "🔴 ouvert — appels en cours"},
    "incident_status_acknowledged": {"en": "🟠 acknowledged by {user}", "fr": "🟠 pris en charge par {user}"},
    "incident_status_resolved": {"en": "✅ resolved by {user}", "fr": "✅ résolu par {user}"},
    "incident_facts": {"en": "Observed *{observed}* in {minutes} min against a baseline of *{baseline}*",
                       "fr": "Observé *{observed}* en {minutes} min pour une base de *{baseline}*"},
    "incident_after_post": {"en": "After the post: {title} ({network}, {time})",
                            "fr": "Après la publication : {title} ({network}, {time})"},
    "incident_terms": {"en": "Terms: {terms}", "fr": "Termes : {terms}"},
    "incident_authors": {"en": "Driven by: {authors}", "fr": "Portée par : {authors}"},
    "incident_items": {"en": "{n} items attached", "fr": "{n} éléments rattachés"},
    "oncall_now": {"en": "📟 On call now: {user} (until {until}{override})", "fr": "📟 D'astreinte : {user} (jusqu'au {until}{override})"},
    "oncall_next": {"en": "Next: {user} from {start}", "fr": "Ensuite : {user} à partir du {start}"},
    "oncall_none": {"en": "No on-call rotation is configured (oncall.rotation in veille.yaml).",
                    "fr": "Aucune astreinte configurée (oncall.rotation dans veille.yaml)."},
    "oncall_override_word": {"en": ", override", "fr": ", remplacement"},
    "oncall_overridden": {"en": "🔁 {user} is on call until {until}, instead of {previous} (set by {by}).",
                          "fr": "🔁 {user} est d'astreinte jusqu'au {until}, à la place de {previous} (par {by})."},
    "oncall_usage": {"en": "Usage: `/oncall` or `/oncall override @someone [hours]`",
                     "fr": "Usage : `/oncall` ou `/oncall override @quelqu'un [heures]`"},
    "incident_opened_reply": {"en": "🚨 Incident opened: {title}", "fr": "🚨 Incident ouvert : {title}"},
    "incident_usage": {"en": "Usage: `/veille incident [sev1|sev2|sev3] what is happening`",
                       "fr": "Usage : `/veille incident [sev1|sev2|sev3] ce qui se passe`"},
    "escalate": {"en": "Escalate (incident)", "fr": "Escalader (incident)"},
    "task_nudges": {"en": "⏰ {n} item(s) to act on before their deadline:", "fr": "⏰ {n} élément(s) à traiter avant l'échéance :"},
    "task_overdue": {"en": "⏱️ {n} item(s) past their deadline — {people}:", "fr": "⏱️ {n} élément(s) en retard — {people} :"},
    "task_line": {"en": "• {action} ({rule}, {minutes:+d} min): «{text}»", "fr": "• {action} ({rule}, {minutes:+d} min) : «{text}»"},
    "and_more": {"en": "\n…and {n} more", "fr": "\n…et {n} de plus"},
    "home_consistency": {"en": "Rule consistency (7 days)", "fr": "Constance des règles (7 jours)"},
    "admins_only": {"en": "Only admins ({admins}) can do this.", "fr": "Seuls les admins ({admins}) peuvent faire cela."},
    "rules_none": {"en": "No rule files are configured (rules_files in veille.yaml).", "fr": "Aucun fichier de règles configuré (rules_files dans veille.yaml)."},
    "rules_reloaded": {"en": "✅ Rules reloaded: {summary}", "fr": "✅ Règles rechargées : {summary}"},
    "rules_reload_refused": {"en": "⚠️ The rule files have problems; the previous rules stay in force:\n{problems}",
                             "fr": "⚠️ Les fichiers de règles ont des problèmes ; les règles précédentes restent en vigueur :\n{problems}"},
    "override_menu": {"en": "A word reads wrong for us…", "fr": "Un mot est mal compris…"},
    "override_title": {"en": "Brand word", "fr": "Mot de la marque"},
    "override_term": {"en": "Word or phrase (e.g. a product name)", "fr": "Mot ou expression (ex. un nom de produit)"},
    "override_label": {"en": "For us it is", "fr": "Pour nous, c'est"},
    "override_hint": {"en": "Applies to every item scored from now on.", "fr": "S'applique à tous les éléments analysés désormais."},
    "override_term_needed": {"en": "Give a word or phrase (100 characters at most).", "fr": "Indiquez un mot ou une expression (100 caractères au plus)."},
    "save": {"en": "Save", "fr": "Enregistrer"},
    "history_override": {"en": "✎ {user}: «{term}» now reads as {label} for us", "fr": "✎ {user} : «{term}» se lit désormais comme {label} pour nous"},
    "sentiment_word_positive": {"en": "positive ", "fr": "positives "},
    "sentiment_word_neutral": {"en": "neutral ", "fr": "neutres "},
    "sentiment_word_negative": {"en": "negative ", "fr": "négatives "},
    "digest_about": {"en": " about '{term}'", "fr": " sur « {term} »"},
    "digest_headline": {"en": "{n} {sentiment}mentions{about} in {minutes} min",
                        "fr": "{n} mentions {sentiment}{about} en {minutes} min"},
    "digest_progress": {"en": "{done}/{n} handled", "fr": "{done}/{n} traités"},
    "digest_expand": {"en": "Show all {n}", "fr": "Tout afficher ({n})"},
    "digest_handle_all": {"en": "Mark all handled", "fr": "Tout marquer traité"},
    "home_away": {"en": "I'm away (skip me when routing)", "fr": "Je suis absent (ne m'attribuez rien)"},
    "home_back": {"en": "I'm back", "fr": "Je suis de retour"},
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
