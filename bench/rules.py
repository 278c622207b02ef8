"""Benchmark: the three rules engines against VADER on the same 10,000 realistic mentions.

    python -m bench.rules [--items 10000] [--repeat 5]

Generates (deterministically) 10,000 French and English mentions — praise, complaints, questions,
press, emoji, obfuscated insults, personal data, spam and a coordinated campaign, some long texts —
a 500-term charter, 20 engagement rules and 10 responsibilities. It then times, in the same run,
VADER's `polarity_scores` over the texts and `RuleSet.evaluate` (charter + impersonation + routing +
engagement, with a live assignment state and campaign window) over the same items, each repeated and
reduced to its median; times are the process's CPU time, so other processes on a shared machine don't
skew them, and repetitions alternate VADER and the rules. Every repetition compiles a fresh rule set, so
its caches start cold, as after a restart. The budget is a ratio rules / VADER of at most 1.0. The last
line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from rules.compile import Decision, ItemContext, RuleSet
from rules.loader import compile_sourced, parse_rules
from rules.routing import MemoryAssignmentState
from rules.schema import NETWORKS, Charter

SEED = 20261120
# CPU time of this process: what the engines cost, not how busy the machine was while they ran.
CLOCK = time.process_time
START = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[1] / "rules" / "examples"

EMOJI = ["😍", "🙏", "💛", "✨", "😡", "🤬", "😢", "👍", "🔥", "😂", "🙄", "💡", "🏠", "❤️", "👏", "😤"]
PRODUCTS_FR = ["lampe Aurore", "suspension Lune", "applique Perle", "guirlande Étoile", "lampe de chevet Nuit"]
PRODUCTS_EN = ["Aurore lamp", "Lune pendant", "Perle wall light", "Étoile string lights", "Nuit bedside lamp"]
ADJ_FR = ["magnifique", "superbe", "trop belle", "parfaite", "sublime", "vraiment réussie", "top"]
ADJ_EN = ["gorgeous", "beautiful", "perfect", "stunning", "amazing", "lovely", "so cozy"]
FIRST = ["lea", "hugo", "chloe", "lucas", "emma", "nathan", "manon", "louis", "camille", "jules", "sarah", "tom",
         "julie", "max", "ines", "paul", "amelia", "jack", "olivia", "noah", "grace", "leo", "mia", "ethan"]
INSULTS = ["connard", "connasse", "enfoiré", "salope", "abruti", "pauvre con", "batard", "fils de pute", "idiot",
           "moron", "asshole", "bitch", "dumbass", "scumbag", "bastard"]


# ---------------------------------------------------------------------------------------------
# Texts


def obfuscate(word: str, rng: random.Random) -> str:
    """One of the tricks people use to get past filters."""
    trick = rng.randrange(7)
    if trick == 0:
        return word.translate(str.maketrans({"o": "0", "a": "@", "e": "3", "i": "1", "s": "$"}))
    if trick == 1:
        i = rng.randrange(len(word))
        return word[:i] + word[i] * rng.randint(3, 6) + word[i + 1:]
    if trick == 2:
        return rng.choice([".", "-", "*", " "]).join(word)
    if trick == 3:
        return word.upper()
    if trick == 4:  # Cyrillic look-alikes
        return word.translate(str.maketrans({"o": "о", "a": "а", "e": "е", "c": "с"}))
    if trick == 5:
        i = rng.randrange(1, max(2, len(word) - 1))
        return word[:i] + "\u200b" + word[i:]
    return word


OPEN_FR = ["", "", "Alors là, ", "Franchement, ", "Coup de cœur : ", "Bon, ", "Wow ", "Petit message pour dire que ",
           "Honnêtement ", "Bonjour, "]
OPEN_EN = ["", "", "Honestly, ", "OK so ", "Wow, ", "Quick one: ", "Just saying, ", "Hi, ", "Well, "]
TAIL_FR = ["", "", " merci !", " je recommande.", " #déco #luminaire", " à offrir sans hésiter.",
           " mon salon est ravi.",
           " parfait pour l'hiver.", " on en reparle dans un mois.", " bisous à l'équipe.", " vivement la suite.",
           " mais le prix pique un peu.", " et le carton était recyclable.", " (commandée lundi)", " #maison"]
TAIL_EN = ["", "", " thanks!", " highly recommend.", " #homedecor #lighting", " perfect gift.", " my flat loves it.",
           " cozy winter vibes.", " will update in a month.", " kudos to the team.", " a bit pricey though.",
           " packaging was recyclable too.", " (ordered Monday)", " #home"]


def text_for(kind: str, rng: random.Random) -> tuple[str, str]:
    """(text, lang) of one mention of the given family: a template with varied openings, details and tails."""
    fr = rng.random() < 0.55
    e = rng.choice(EMOJI) if rng.random() < 0.6 else ""
    p_fr, p_en = rng.choice(PRODUCTS_FR), rng.choice(PRODUCTS_EN)
    order = rng.randint(10_000, 99_999)
    days = rng.randint(3, 21)
    city = rng.choice(["Lyon", "Nantes", "Lille", "Bruxelles", "Genève", "London", "Montréal", "Bordeaux"])
    if kind == "positive":
        body = rng.choice([
            f"je viens de recevoir ma {p_fr}, elle est {rng.choice(ADJ_FR)} {e}",
            f"merci @maisonlumen pour la {p_fr}, {rng.choice(ADJ_FR)} ! {e}",
            f"la {p_fr} de @maisonlumen est {rng.choice(ADJ_FR)}, installée en {rng.randint(2, 15)} minutes",
            f"trop contente de ma {p_fr} {e} le salon est transformé",
            f"bravo à l'équipe de {city}, service client au top et livraison en {days} jours {e}",
            f"offert une {p_fr} à ma mère, elle l'adore",
        ] if fr else [
            f"just got my {p_en} from @maisonlumen and it's {rng.choice(ADJ_EN)} {e}",
            f"love my new {p_en}! {e} thank you @maisonlumen",
            f"the {p_en} is {rng.choice(ADJ_EN)}, set up in {rng.randint(2, 15)} minutes",
            f"great customer service from the {city} team, delivered in {days} days {e}",
            f"bought a {p_en} for my mum, she adores it",
        ])
    elif kind == "complaint":
        body = rng.choice([
            f"toujours pas reçu ma commande n°{order} @maisonlumen, ça fait {days} jours {e}",
            f"livraison en retard de {days} jours, c'est une honte {e}",
            f"colis abîmé à {city}, {p_fr} cassée, je demande un remboursement",
            f"service client injoignable depuis {days} jours, personne ne répond. Déçue.",
            f"ma {p_fr} ne s'allume plus après {days} jours, qualité décevante",
        ] if fr else [
            f"still waiting for my order #{order} @maisonlumen, {days} days now {e}",
            f"my {p_en} arrived broken in {city} and nobody answers. Terrible service",
            f"delivery {days} days late, this is a disgrace {e}",
            f"asked for a refund {days} days ago, still nothing. Never again.",
        ])
    elif kind == "question":
        body = rng.choice([
            f"est-ce que la {p_fr} existe en {rng.choice(['blanc', 'noir', 'laiton', 'vert sauge'])} ?",
            f"vous livrez à {city} ? Et en combien de jours ?",
            f"quel est le délai de livraison pour la {p_fr} ?",
            f"vous avez un magasin à {city} ?",
            f"la {p_fr} est dispo ou en rupture de stock ?",
        ] if fr else [
            f"do you ship the {p_en} to {city}?",
            f"when will the {p_en} be back in stock? {e}",
            f"is there a store in {city}?",
            f"can I change the address of order {order}?",
        ])
    elif kind == "neutral":
        body = rng.choice([
            f"vu la {p_fr} chez une amie à {city}",
            f"nouvelle collection @maisonlumen en ligne, dont la {p_fr}",
            f"RT @deco_mag: les plus belles lampes de l'hiver, dont la {p_fr}",
            f"je compare la {p_fr} et une lampe de chez Lumière & Fils",
        ] if fr else [
            f"saw the {p_en} at a friend's place in {city}",
            f"new @maisonlumen collection is out, including the {p_en}",
            f"comparing the {p_en} with one from another brand",
        ])
    elif kind == "press":
        body = rng.choice([
            f"je suis journaliste à {rng.choice(['Elle Déco', 'Le Parisien', 'Marie Claire'])} et je prépare un "
            f"article sur le design à {city}",
            f"vous recrutez des stagiaires en marketing à {city} ? Candidature envoyée !",
            f"journalist at {rng.choice(['Dezeen', 'Wallpaper', 'The Guardian'])} here, could we arrange an interview?",
            f"are you hiring in {city}? I'd love to apply for the job in your workshop",
        ])
    elif kind == "insult":
        who = rng.choice(["@maisonlumen", "le community manager", "you", "toi", "ce service client", "l'équipe"])
        body = rng.choice([
            f"{who} espèce de {obfuscate(rng.choice(INSULTS), rng)} {e}",
            f"vous êtes des {obfuscate(rng.choice(INSULTS), rng)}, rendez mon argent ({order})",
            f"{obfuscate(rng.choice(INSULTS), rng)}! {who} never answers about order {order}",
            f"what a {obfuscate(rng.choice(INSULTS), rng)} move, {who}, {days} days without news",
        ])
    elif kind == "pii":
        n = " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4))
        first, last = rng.choice(FIRST), rng.choice(FIRST)
        body = rng.choice([
            f"appelez-moi au 06 {n} pour ma commande {order}",
            f"écrivez-moi à {first}.{last}{rng.randint(1, 99)}@gmail.com svp, commande {order}",
            f"remboursez sur mon IBAN FR76 3000 6000 0112 3456 7890 189, commande {order}",
            f"call me on +44 7700 900{rng.randint(100, 999)} about order {order}",
            f"my card 4970 1012 3456 7893 was charged twice for order {order}!!",
        ])
    elif kind == "spam":
        body = rng.choice([
            f"Gagnez un iPhone 15 ! Cliquez ici https://bit.ly/{rng.randrange(16**6):06x}",
            f"Easy money from home, DM me {e} https://tinyurl.com/{rng.randrange(16**6):06x}",
            f"Check out my channel for {rng.choice(['home decor', 'DIY', 'cozy'])} tips, link in bio!",
            f"Free bitcoin giveaway 🚀 claim your prize at cutt.ly/{rng.randrange(16**5):05x}",
        ])
        return body, ("fr" if body.startswith("Gagnez") else "en")
    elif kind == "campaign":
        # The same message pasted by many accounts, with the tiny edits campaigns make to dodge filters.
        body = rng.choice([
            "@maisonlumen vos lampes sont fabriquées dans des conditions indignes, boycott ! #BoycottLumen",
            "@maisonlumen your lamps are made in shameful conditions, boycott now! #BoycottLumen",
        ]) + rng.choice(["", " " + e, "!!", " " + e + e, " RT"])
        return body, ("fr" if "vos lampes" in body else "en")
    else:  # long: a review in several parts
        parts = [text_for(rng.choice(["positive", "complaint", "neutral", "question"]), rng)[0] for _ in range(12)]
        return " ".join(parts), ("fr" if fr else "en")
    text = (rng.choice(OPEN_FR if fr else OPEN_EN) + body + rng.choice(TAIL_FR if fr else TAIL_EN)).strip()
    return text[0].upper() + text[1:], ("fr" if fr else "en")


FAMILIES = [("positive", 30), ("complaint", 19), ("question", 13), ("neutral", 16), ("press", 3), ("insult", 6),
            ("pii", 3), ("spam", 4), ("campaign", 2), ("long", 4)]


def make_items(n: int, rng: random.Random) -> list[ItemContext]:
    """n mentions, in time order over a week, from a realistic crowd of authors."""
    authors = []
    for i in range(max(50, n // 3)):
        followers = int(rng.lognormvariate(5.5, 1.8))
        authors.append((f"{rng.choice(FIRST)}{rng.choice(['', '_', '.'])}{rng.choice(FIRST)}{i}", followers))
    impostors = [("maisonlumen_support", 40), ("rnaisonlumen", 12), ("maison.lumen.officiel", 300),
                 ("maisonIumen", 80)]
    families = [f for f, w in FAMILIES for _ in range(w)]
    items = []
    for i in range(n):
        family = rng.choice(families)
        text, lang = text_for(family, rng)
        handle, followers = rng.choice(impostors) if rng.random() < 0.003 else rng.choice(authors)
        items.append(ItemContext(
            text=text, network=rng.choice(NETWORKS[:7]), kind=rng.choice(["mention", "comment", "comment", "reply"]),
            lang=lang, author_handle=handle, author_name=handle.replace("_", " ").title(), author_followers=followers,
            key=f"bench:{i}", created_at=START + timedelta(seconds=i * 60)))
    return items


# ---------------------------------------------------------------------------------------------
# Rules: the shipped examples grown to 500 terms, 20 engagement rules, 10 responsibilities


WORKSPACE = """
brand:
  name: Maison Lumen
  language: fr
  timezone: Europe/Paris
  handles: {x: maisonlumen, instagram: maisonlumen, facebook: Maison Lumen}
admins: [U0CM1]
channels: {triage: C0TRIAGE}
fallback_owner: U0CM1
influencers:
  tiers: {micro: 10000, macro: 100000, mega: 1000000}
  priority_from: micro
schedules:
  business-hours: {days: [mon, tue, wed, thu, fri], hours: "09:00-18:00"}
  black-friday: {dates: {from: 2026-11-27, to: 2026-11-30}}
responsibilities:
  - {name: legal, owners: [U0LEGAL1], severity: critical, priority: high}
  - {name: moderation, owners: [U0MOD1, U0MOD2], violation: true}
  - {name: influencers, owners: [U0CM1, U0CM2], tiers: [macro, mega], assign: least_open}
  - {name: press, owners: [U0PRESS1], keywords: [journaliste, journalist, presse, press, interview, reportage]}
  - {name: recruitment, owners: [U0HR1], keywords: [recrutez, recrutement, candidature, stage, hiring, job, apply]}
  - {name: partnerships, owners: [U0PART1], keywords: [collab, partenariat, partnership, sponsoring, ambassadeur]}
  - name: support-night
    owners: [U0NIGHT1]
    outside: business-hours
    sentiment: negative
    keywords: [commande, livraison, colis, remboursement, order, delivery, refund, parcel]
  - name: support
    owners: [U0SUP1, U0SUP2, U0SUP3, U0SUP4]
    assign: least_open
    keywords: [livraison, commande, colis, remboursement, retard, cassée, delivery, order, refund, parcel,
               broken, "toujours pas", "still waiting"]
  - {name: retail, owners: [U0SHOP1], keywords: [magasin, boutique, store, showroom, lyon, london]}
  - {name: community, owners: [U0CM1, U0CM2, U0CM3], sentiment: positive}
"""

EXTRA_RULES = """
engagement:
  - {id: thank-macro, title: Thank big influencers fast, when: {tiers: [macro, mega], sentiment: positive},
     action: thank, within: 4h, template: thanks}
  - {id: like-x-positive, title: Like positive posts on X, when: {networks: x, sentiment: positive}, action: like,
     within: 24h}
  - {id: reply-dm, title: Answer direct messages, when: {kinds: dm}, action: reply, within: 1h}
  - {id: fr-questions-stock, title: Stock questions, when: {languages: fr, question: true,
     keywords: [stock, dispo, disponible, rupture]}, action: reply, within: 2h, template: question}
  - {id: en-questions-shipping, title: Shipping questions, when: {languages: en, question: true,
     keywords: [ship, shipping, deliver, delivery]}, action: reply, within: 2h, template: question}
  - {id: black-friday-complaints, title: Black Friday complaints, during: black-friday,
     when: {sentiment: negative}, action: reply, within: 1h, template: support}
  - {id: neutral-mentions-facebook, title: Like neutral Facebook mentions, when: {networks: facebook,
     sentiment: neutral, kinds: mention}, action: like, within: 48h}
  - {id: competitor-comparison, title: Answer comparisons with competitors, when: {keywords: ["lumière & fils",
     compare, comparing, "other brand"]}, action: reply, within: 8h}
  - {id: broken-products, title: Broken products, when: {sentiment: negative, keywords: [cassée, cassé, broken,
     abîmé, damaged, "ne s'allume plus"]}, action: escalate, within: 2h}
  - {id: repeat-praise-reply, title: Reply to long praise, when: {sentiment: positive, all: [{not: {question: true}},
     {any: [{keywords: [recommande, recommend]}, {tiers: [micro]}]}]}, action: reply, within: 12h,
     template: thanks}
"""

STEMS_FR = ["connard", "connasse", "enfoiré", "salope", "abruti", "crétin", "batard", "ordure", "raclure",
            "tocard", "bouffon", "imbécile", "pourriture", "enculé", "minable", "naze", "blaireau", "boloss", "cassos",
            "clochard"]
STEMS_EN = ["moron", "asshole", "bitch", "dumbass", "scumbag", "bastard", "idiot", "jackass", "douchebag", "wanker",
            "prick", "twat", "shithead", "dickhead", "clown", "loser", "creep", "weirdo", "freak", "coward"]


def big_charter(target: int = 500) -> tuple[str, str, int]:
    """The shipped charters (French, English) plus a clause of realistic insult variants: `target` terms in all."""
    fr = (EXAMPLES / "charter.fr.yaml").read_text(encoding="utf-8")
    en = (EXAMPLES / "charter.en.yaml").read_text(encoding="utf-8")
    base = sum(len(clause.terms) for text in (fr, en)
               for clause in (parse_rules(text).rules.charter or Charter()).clauses)
    extra: list[str] = []
    for stem in STEMS_FR:
        extra += [f"{stem}s", f"sale {stem}", f"espèce de {stem}", f"bande de {stem}s", f"gros {stem}",
                  f"pauvre {stem}", f"vieux {stem}", f"petit {stem}", f"quel {stem}", f"t'es un {stem}"]
    for stem in STEMS_EN:
        extra += [f"{stem}s", f"stupid {stem}", f"you {stem}", f"fucking {stem}", f"total {stem}",
                  f"such a {stem}", f"what a {stem}", f"big {stem}", f"little {stem}", f"complete {stem}"]
    extra = list(dict.fromkeys(extra))[: max(0, target - base)]
    terms = "\n".join(f"        - {json.dumps(t, ensure_ascii=False)}" for t in extra)
    grown = """
    - id: insults-variants
      title: Insult variants
      wording: Insults in all their forms are removed.
      severity: high
      action: [hide, report]
      fuzzy: 88
      except: [ordre, nourriture, closer, clowns]
      terms:
""" + terms + "\n"
    return fr, en + grown, base + len(extra)


def build_ruleset() -> RuleSet:
    """Compile the bench rules from text (a fresh rule set: cold caches)."""
    from bot.workspace import parse_workspace

    fr, en, _ = big_charter()
    engagement = (EXAMPLES / "engagement.en.yaml").read_text(encoding="utf-8")
    sources = [parse_rules(fr, "charter.fr.yaml"), parse_rules(en, "charter.en.yaml"),
               parse_rules(engagement, "engagement.en.yaml"), parse_rules(EXTRA_RULES, "extra.yaml")]
    return compile_sourced(parse_workspace(WORKSPACE, "bench.yaml"), sources)


# ---------------------------------------------------------------------------------------------
# Timing


def run_once(analyzer: SentimentIntensityAnalyzer, items: list[ItemContext], *,
             keep: bool = False) -> tuple[float, float, float, list[Decision]]:
    """One repetition: (VADER seconds, rules seconds, compile seconds, decisions if `keep`).

    VADER scores every text, then a fresh rule set (cold caches, as after a restart) evaluates every item.
    """
    polarity = analyzer.polarity_scores
    start = CLOCK()
    for item in items:
        polarity(item.text)
    vader_s = CLOCK() - start
    start = CLOCK()
    ruleset = build_ruleset()
    compiled = CLOCK() - start
    state = MemoryAssignmentState(away={"U0SUP2"})
    window = ruleset.new_campaign_window()
    kept: list[Decision] = []
    evaluate, record = ruleset.evaluate, state.record
    start = CLOCK()
    for item in items:
        decision = evaluate(item, now=item.created_at or START, assignment=state, campaigns=window)
        record(decision.route)  # the store would count the item as open for its owner
        if keep:
            kept.append(decision)
    return vader_s, CLOCK() - start, compiled, kept


def tally(decisions: list[Decision]) -> dict[str, int]:
    """What the rules found, to show the data is realistic (counted outside the timings)."""
    ds = decisions
    return {"violations": sum(len(d.violations) for d in ds),
            "items_with_violations": sum(bool(d.violations) for d in ds),
            "impersonation": sum(d.impersonation is not None for d in ds),
            "tasks": sum(m.creates_task for d in ds for m in d.engagement),
            "influencer_items": sum(d.influencer_tier is not None for d in ds),
            "routed": sum(d.route.responsibility is not None for d in ds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(SEED)
    items = make_items(args.items, rng)
    analyzer = SentimentIntensityAnalyzer()
    # The sentiment label the pipeline would give each item (outside the timings).
    labelled = []
    for item in items:
        compound = analyzer.polarity_scores(item.text)["compound"]
        label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
        labelled.append(ItemContext(**{**{f: getattr(item, f) for f in item.__dataclass_fields__}, "sentiment": label}))
    texts = [item.text for item in labelled]
    _, _, n_terms = big_charter()
    probe = build_ruleset()
    vader_runs, rules_runs, compile_runs = [], [], []
    for _ in range(args.repeat):
        vader_s, rules_s, compiled, _ = run_once(analyzer, labelled)
        vader_runs.append(vader_s)
        rules_runs.append(rules_s)
        compile_runs.append(compiled)
    counts = tally(run_once(analyzer, labelled, keep=True)[3])
    vader_s, rules_s = statistics.median(vader_runs), statistics.median(rules_runs)
    ratio = rules_s / vader_s
    chars = sum(len(t) for t in texts)
    print(f"items: {len(texts):,} ({chars / len(texts):.0f} characters on average, longest {max(map(len, texts)):,})")
    print(f"rules: {n_terms} charter terms in {len(probe.charter.clauses)} clauses, "
          f"{len(probe.engagement.rules)} engagement rules, {len(probe.router.responsibilities)} responsibilities")
    print(f"found: {counts}")
    print(f"VADER polarity_scores: {vader_s * 1000:8.1f} ms  ({vader_s / len(texts) * 1e6:5.1f} µs/item, "
          f"median of {args.repeat}, CPU time)")
    print(f"rules (3 engines):     {rules_s * 1000:8.1f} ms  ({rules_s / len(texts) * 1e6:5.1f} µs/item, "
          f"median of {args.repeat}; compile {statistics.median(compile_runs) * 1000:.0f} ms, not counted)")
    print(f"ratio rules / VADER:   {ratio:8.3f}  (budget ≤ 1.0: {'OK' if ratio <= 1.0 else 'OVER'})")
    print(json.dumps({"bench": "rules", "items": len(texts), "charter_terms": n_terms,
                      "engagement_rules": len(probe.engagement.rules),
                      "responsibilities": len(probe.router.responsibilities), "repeat": args.repeat,
                      "vader_ms": round(vader_s * 1000, 1), "rules_ms": round(rules_s * 1000, 1),
                      "compile_ms": round(statistics.median(compile_runs) * 1000, 1), "ratio": round(ratio, 3),
                      "within_budget": ratio <= 1.0, **counts}))


if __name__ == "__main__":
    main()
