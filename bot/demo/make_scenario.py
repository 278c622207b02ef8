"""Generate the bundled demo scenario: 36 hours of Maison Lumen mentions, in each network's API format.

Run `python -m bot.demo.make_scenario` to (re)write `bot/demo/scenario/*.json`. The output is
deterministic (fixed seed): the same code always writes the same bytes.

The brand is fictional: Maison Lumen, a French workshop making artisan lamps (X `@maisonlumen`,
Instagram `maisonlumen`, Facebook page "Maison Lumen", Mastodon `@maisonlumen@piaille.fr`). The
scenario starts 2026-11-20T06:00:00Z and follows a Paris daily rhythm (busy evenings, quiet nights).
Day 2 holds a planned event: an early Black Friday post on Instagram at 09:00Z, followed about two
hours later by a burst of delivery-delay complaints. A few items carry Slack control sequences
(`<!channel>`, `<@U12345>`, `<http://evil.example|your bank>`, `&`) so the demo shows they stay inert.

Each network file is a list of replay events `{"at", "network", "payload"[, "object_id"]}`, where
`payload` is one page exactly as the network's API returns it (see `monitors/sources/replay.py`).
"""

from __future__ import annotations

import base64
import json
import math
import random
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from html import escape
from pathlib import Path
from typing import Any

SEED = 20261120
START = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
END = START + timedelta(hours=36)
# Paris is UTC+1 all of late November; a fixed offset avoids depending on the tzdata package.
PARIS = timezone(timedelta(hours=1))
# Items are grouped into one page per network, post and 2-minute window, as a 2-minute poll would see.
BUCKET = timedelta(minutes=2)
OUT_DIR = Path(__file__).resolve().parent / "scenario"

# Relative activity by Paris local hour: quiet at night, peaks at lunch and in the evening.
HOUR_WEIGHT = (
    0.35, 0.15, 0.08, 0.05, 0.05, 0.08, 0.25, 0.6, 0.9, 1.0, 1.0, 1.05,
    1.3, 1.25, 1.0, 0.95, 1.0, 1.15, 1.4, 1.6, 1.7, 1.5, 1.05, 0.65,
)  # fmt: skip

X_BRAND_ID = "1587340021938475008"
X_EPOCH_MS = 1288834974657  # X snowflake epoch
FB_PAGE_ID = "108352974650231"
MASTO_HOME = "piaille.fr"
MASTO_BRAND_ID = "109384756120394857"
MASTO_BRAND_URL = f"https://{MASTO_HOME}/@maisonlumen"
BRAND_IN_TEXT = {
    "x": "@maisonlumen",
    "instagram": "@maisonlumen",
    "facebook": "Maison Lumen",
    "mastodon": "Maison Lumen",
}
FR_SHARE = {"x": 0.5, "instagram": 0.58, "facebook": 0.64, "mastodon": 0.62}

# --------------------------------------------------------------------------------------------------
# Text banks. Slots: {product} {color} {city} {days} {weeks} {order} {date} {pub} {short} {emoji}
# {hi} (an optional greeting) {friend} {brand}.
# --------------------------------------------------------------------------------------------------

PRODUCTS = {
    "fr": ["lampe Aurore", "suspension Nébuleuse", "lampe murale Cendre", "lampe de chevet Luciole",
           "lampe Sillage", "baladeuse Comète"],
    "en": ["Aurore lamp", "Nébuleuse pendant", "Cendre wall light", "Luciole bedside lamp",
           "Sillage floor lamp", "Comète lantern"],
}  # fmt: skip
COLORS = {
    "fr": ["laiton brossé", "terracotta", "vert sauge", "bleu nuit", "lin naturel", "noir mat"],
    "en": ["brushed brass", "terracotta", "sage green", "midnight blue", "natural linen", "matte black"],
}
CITIES = {
    "fr": ["Lyon", "Nantes", "Bordeaux", "Lille", "Rennes", "Marseille", "Strasbourg", "Toulouse",
           "Bruxelles", "Genève", "Montréal"],
    "en": ["London", "Manchester", "Berlin", "Amsterdam", "Dublin", "Edinburgh", "New York", "Copenhagen"],
}  # fmt: skip
GREETINGS = {
    "fr": ["Bonjour, ", "Hello ! ", "Bonsoir, ", "Coucou, ", "", ""],
    "en": ["Hi! ", "Hello, ", "Hey, ", "", ""],
}
PUBLICATIONS = [
    "Maisons & Lumières",
    "Design Hebdo",
    "The Interior Post",
    "Craft & Home Weekly",
    "Le Petit Artisan",
]
POSITIVE_EMOJI = ["😍", "✨", "💛", "🙏", "👏", "🔥", "🥰", "💡", "🤩", "❤️", "🕯️", "🌙"]
NEGATIVE_EMOJI = ["😡", "🙄", "😤", "😞", "🤬", "👎", "😠"]
SHORTENERS = ["bit.ly", "tinyurl.com", "cutt.ly", "shorturl.at"]

TEMPLATES: dict[str, dict[str, list[str]]] = {
    "praise": {
        "fr": [
            "Reçu ma {product} hier soir, elle est encore plus belle en vrai {emoji}",
            "La {product} a complètement changé l'ambiance du salon. Merci l'atelier !",
            "Deuxième commande chez vous et toujours aussi ravie. Les finitions sont parfaites.",
            "Quel travail ! On sent vraiment le savoir-faire derrière chaque pièce {emoji}",
            "J'ai offert une {product} à ma mère pour ses 60 ans, elle ne l'éteint plus 😄",
            "Cette teinte {color} est sublime, vous avez encore frappé fort",
            "Emballage impeccable, livraison rapide à {city}, lampe magnifique. Rien à redire.",
            "Merci pour le petit mot manuscrit dans le colis, ça fait toujours plaisir {emoji}",
            "Service client au top : abat-jour abîmé à la livraison, remplacé en 48 h sans discuter. Bravo.",
            "Cette lumière chaude le soir… on ne s'en lasse pas {emoji}",
            "Sublime {emoji}",
            "Magnifique 👏👏",
            "Je veux tout 😍",
            "😍😍😍",
            "Enfin une marque qui fabrique vraiment en France. Continuez comme ça !",
            "Ma {product} trône sur la commode depuis un an, toujours aussi belle. Merci {emoji}",
            "Coup de cœur absolu pour la {product}",
            "Vue chez une amie hier, je comprends l'engouement. Elle est superbe.",
            "Installée dans l'entrée ce week-end, tous nos invités nous demandent d'où elle vient {emoji}",
        ],
        "en": [
            "Got my {product} yesterday and it's even prettier in person {emoji}",
            "The {product} is honestly the best thing I bought this year. The light is so warm.",
            "Beautiful craftsmanship, you can really tell it's handmade {emoji}",
            "Second order, still impressed. Thank you for the handwritten note!",
            "Gorgeous in {color} {emoji}",
            "Shipped to {city} in four days, perfectly packed. Love it.",
            "Your support team replaced a cracked shade in two days, no questions asked. "
            "That's how it's done.",
            "Obsessed {emoji}",
            "Stunning. Need this in my bedroom asap",
            "My {product} has been on my desk for a year and I still smile every time I switch it on",
            "Finally a lamp that doesn't look like everyone else's. Well done!",
            "This is the kind of light that makes November bearable {emoji}",
            "Bought the {product} for my sister's new flat and now I want one too",
        ],
    },
    "question": {
        "fr": [
            "livraison ?",
            "{hi}la {product} est-elle compatible avec un variateur ?",
            "{hi}quel est le délai de livraison en ce moment ?",
            "{hi}vous livrez à {city} ?",
            "Vous avez un showroom à Paris pour voir les lampes en vrai ?",
            "{hi}est-ce que l'abat-jour de la {product} existe en {color} ?",
            "Quelle ampoule conseillez-vous pour la {product} ? E27 ou E14 ?",
            "{hi}la {product} sera-t-elle concernée par le Black Friday ?",
            "Vous faites des cartes cadeaux ? C'est pour Noël 🎁",
            "Elle mesure combien exactement, la {product} ? Je cherche quelque chose de moins de 40 cm",
            "{hi}possible de retirer la commande directement à l'atelier ?",
            "Prix ?",
            "{hi}la {product} est-elle réparable si le câble lâche ? Vous vendez des pièces détachées ?",
            "Elle existe en version murale ?",
            "Vous faites de la R&D sur des ampoules LED plus chaudes ? Celles du commerce sont trop froides",
        ],
        "en": [
            "Is the {product} dimmable?",
            "{hi}do you ship to {city}? Couldn't find it in the FAQ",
            "What bulb does the {product} take?",
            "Any chance the {product} comes in {color}?",
            "{hi}how long is delivery to the UK right now? Need it before Christmas",
            "Will the {product} be part of Black Friday?",
            "Does it come with a UK plug or do I need an adapter?",
            "Is the cable length adjustable on the {product}?",
            "Price?",
            "{hi}do you sell spare shades? Mine got a bit sun-bleached",
        ],
    },
    "delivery": {
        "fr": [
            "Toujours pas reçu ma commande {order}, passée il y a {days} jours. Quelqu'un peut me répondre ?",
            "toujours pas reçu ma commande… {days} jours {emoji}",
            "Commande {order} bloquée « en préparation » depuis {days} jours, c'est long",
            "Colis marqué livré mais rien dans ma boîte aux lettres à {city}. Je fais comment ?",
            "Trois mails sans réponse au service client. J'aimerais juste savoir où est ma lampe.",
            "Lampe arrivée avec l'abat-jour cabossé {emoji} commande {order}",
            "Ça fait {days} jours que j'attends, pas de numéro de suivi, rien.",
            "{hi}le suivi de ma commande {order} ne bouge plus depuis lundi, c'est normal ?",
        ],
        "en": [
            "Still waiting for my order, {days} days now. Order {order}. Any update?",
            "still waiting for my order, 3 days",
            "Tracking hasn't moved since Monday. Order {order} {emoji}",
            "My parcel says delivered but it's nowhere to be found in {city}",
            "Emailed support twice, no answer. Where is my lamp?",
            "The shade arrived dented, order {order}. Pretty disappointed {emoji}",
            "{hi}ordered on the 12th and still nothing. Is there a delay with the couriers?",
        ],
    },
    "recruitment": {
        "fr": [
            "Vous recrutez ?",
            "vous recrutez ? Je suis ébéniste à {city} et j'adorerais rejoindre l'atelier",
            "{hi}vous prenez des stagiaires en design produit pour le printemps 2027 ?",
            "Vous cherchez des vendeurs pour les fêtes ? J'ai de l'expérience en boutique déco.",
            "{hi}je suis céramiste, est-ce que vous travaillez avec des artisans indépendants ?",
        ],
        "en": [
            "Are you hiring? I'm a ceramicist based in {city} and I love your work",
            "Do you take interns? Product design student here {emoji}",
            "{hi}any openings in the workshop? I've been doing glassblowing for six years",
        ],
    },
    "press": {
        "fr": [
            "Bonjour, journaliste chez {pub}, je prépare un dossier sur l'artisanat lumineux. "
            "Qui contacter pour la presse ?",
            "Journaliste à {pub} : seriez-vous disponibles pour une interview cette semaine ? "
            "Mes MP sont ouverts.",
            "{hi}je suis journaliste chez {pub}, on aimerait faire figurer la {product} dans notre sélection "
            "de Noël. Vous avez un contact presse ?",
        ],
        "en": [
            "Hi! Journalist at {pub}, writing a piece on French lighting makers. "
            "Who should I talk to about press?",
            "Editor at {pub} here, we'd love to feature the {product} in our gift guide. DMs open",
        ],
    },
    "influencer": {
        "fr": [
            "Petite pépite dénichée cette semaine : la {product} de {brand}. "
            "Mon salon n'a jamais été aussi doux ✨",
            "On me demande souvent d'où vient ma lampe de chevet : c'est la {product} de {brand}, "
            "et non ce n'est pas sponsorisé 😄",
            "Collab ? On adorerait présenter vos lampes à la communauté 💛",
        ],
        "en": [
            "Obsessed with my new {product} from {brand}. Full room tour on my stories tonight ✨",
            "Would love to collaborate! My audience is all about slow living and your lamps fit perfectly 💛",
            "Hands down the prettiest lamp in my flat. {product} by {brand}, not sponsored, just in love",
        ],
    },
    "spam": {
        "fr": [
            "🔥 Lampes design à -90% !!! Offre limitée 👉 {short}",
            "Gagnez un iPhone 17 en cliquant ici : {short}",
            "Tu veux gagner 500 € par jour depuis chez toi ? Écris-moi en privé 💸 {short}",
            "Boostez votre compte : 10 000 abonnés pour 9 € seulement {short}",
        ],
        "en": [
            "Earn $500/day from home, DM me 💸 {short}",
            "🔥 Designer lamps 90% OFF, today only 👉 {short}",
            "Congrats! You've been selected for a free giveaway, claim here {short}",
            "Want more followers? Promote your page with us {short}",
        ],
    },
    "hostile": {
        "fr": [
            "Arnaque. Des prix pareils pour une ampoule et trois bouts de tissu, vous vous moquez du monde.",
            "Bande d'escrocs, rendez-moi mon argent {emoji}",
            "Service client inexistant, une vraie boîte de clowns 🤡",
            "Vos lampes sont moches et hors de prix. Ridicule.",
            "Franchement vous êtes nuls. Plus jamais.",
        ],
        "en": [
            "Total scam, stay away from this brand",
            "Worst customer service ever. Absolute clowns 🤡",
            "Overpriced garbage. You should be ashamed.",
            "Pathetic. Three weeks and not even an email. Never again {emoji}",
        ],
    },
    "chatter": {
        "fr": [
            "On attend la collection de Noël avec impatience {emoji}",
            "Qui d'autre a craqué cette semaine ? 🙋‍♀️",
            "Hâte de voir la suite !",
            "La photo est magnifique, c'est à l'atelier ?",
            "Ça donne envie de rester sous un plaid avec un bon livre {emoji}",
            "Toujours un plaisir de voir vos publications passer dans mon fil",
        ],
        "en": [
            "Can't wait for the holiday collection {emoji}",
            "That photo! Is that the workshop?",
            "Makes me want to curl up with a book {emoji}",
            "Always a joy to see your posts in my feed",
        ],
    },
    "tag_friend": {
        "fr": [
            "{friend} regarde celle-là pour ton salon !",
            "{friend} c'est exactement ce qu'on cherchait pour l'entrée",
            "{friend} idée cadeau pour maman ? 👀",
            "{friend} 😍😍",
        ],
        "en": [
            "{friend} this is the one for your reading corner!",
            "{friend} birthday idea 👀",
            "{friend} told you, look at this",
        ],
    },
    "promo_interest": {
        "fr": [
            "J'espère que la {product} sera dans la promo 🤞",
            "C'est quoi la surprise ? 👀",
            "Enfin ! J'attendais ça pour la {product}",
            "La remise s'applique aussi aux abat-jour seuls ?",
            "Jusqu'à quand ?",
            "Le code marche aussi à l'atelier ?",
        ],
        "en": [
            "Please tell me the {product} is included 🤞",
            "What's the surprise? 👀",
            "Been waiting for this!",
            "Does the discount apply to spare shades too?",
            "How long does it run?",
        ],
    },
    "burst": {
        "fr": [
            "Vous lancez une promo alors que ma commande d'il y a {weeks} semaines "
            "n'est toujours pas arrivée ?",
            "Avant de faire -20 %, livrez les clients qui ont déjà payé {emoji}",
            "Pareil, commande {order} toujours pas expédiée. Aucune réponse aux mails.",
            "Je vois que je ne suis pas la seule… {days} jours d'attente",
            "Honteux. Une promo mais pas de livraison.",
            "On peut avoir une vraie réponse sur les délais ?",
            "Commande passée le {date}, toujours « en préparation ». Je vais demander le remboursement.",
            "Des nouvelles des commandes de début novembre ? Parce que là c'est silence radio {emoji}",
            "-20 % pour les nouveaux clients, et les anciens on attend ? Super.",
            "Idem pour moi, {days} jours. Le service client ne répond plus.",
        ],
        "en": [
            "Running a sale while my order from {weeks} weeks ago still hasn't shipped? Seriously?",
            "Maybe deliver the orders people already paid for before launching Black Friday {emoji}",
            "Same here, order {order}, no tracking, no reply",
            "Not the only one then... {days} days and counting",
            "Cancelled my order. No communication at all.",
            "Any official word on the delivery delays? Your inbox is clearly not being read",
        ],
    },
}
NEGATIVE_CATEGORIES = frozenset({"delivery", "hostile", "burst"})

# A long, articulate complaint: the text must survive intact however long it is.
LONG_COMPLAINT = (
    "Je me permets d'écrire ici puisque mes trois mails au service client sont restés sans réponse.\n\n"
    "J'ai commandé une lampe Aurore en laiton brossé le 2 novembre (commande #ML-44127), pour un "
    "cadeau de mariage prévu le 16. On m'annonçait une expédition sous 5 jours ouvrés. Le 9, le suivi "
    "indiquait « en préparation ». Le 14, toujours « en préparation ». J'ai appelé : messagerie pleine. "
    "J'ai écrit via le formulaire du site, puis à l'adresse du service client, puis à l'adresse de "
    "l'atelier trouvée sur votre page. Rien.\n\n"
    "Le mariage est passé, j'ai offert autre chose en catastrophe. Aujourd'hui je vois passer une "
    "promo Black Friday à -20 % avec de jolies photos, et je ne comprends pas : si vous avez du stock "
    "pour une promotion, pourquoi ma commande payée depuis presque trois semaines n'est-elle pas partie ?\n\n"
    "J'aime beaucoup ce que vous faites, j'ai déjà deux de vos appliques et j'en parlais autour de moi "
    "avec enthousiasme. Mais là je me sens simplement ignorée. Je ne demande pas un geste commercial, "
    "je demande une réponse : soit une date d'expédition réaliste, soit le remboursement.\n\n"
    "Merci à la personne qui lira ceci jusqu'au bout."
)


@dataclass(frozen=True)
class Post:
    """One planned brand post of `calendar.json`."""

    key: str
    network: str
    at: datetime
    title: str
    pillar: str
    promo: bool
    external_id: str | None = None
    permalink: str | None = None

    def calendar_entry(self) -> dict[str, Any]:
        published = self.at < END and self.external_id is not None
        return {
            "network": self.network,
            "scheduled_at": _iso_z(self.at),
            "title": self.title,
            "pillar": self.pillar,
            "promo": self.promo,
            "owner": "U0CM1",
            "status": "published" if published else "scheduled",
            "external_id": self.external_id if published else None,
            "permalink": self.permalink if published else None,
        }


@dataclass
class Author:
    network: str
    handle: str  # X username, Instagram username or Mastodon username; Facebook shows names only
    name: str
    lang: str
    role: str  # regular | influencer | journalist | spam | troll
    followers: int
    uid: str
    instance: str = ""  # Mastodon
    pub: str = ""  # journalists' publication

    @property
    def acct(self) -> str:
        return self.handle if self.instance == MASTO_HOME else f"{self.handle}@{self.instance}"


@dataclass(eq=False)
class Item:
    network: str
    at: datetime
    lang: str
    category: str
    author: Author
    target: str  # key of the post commented on, or "" for a plain mention
    reply_to_brand: bool = False  # X / Mastodon reply to the brand's own post
    reply_chance: float = 0.0  # probability of being a reply to an earlier item on the same target
    fixed_text: str | None = None
    parent: Item | None = None
    text: str = ""
    ext_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class ScenarioBuilder:
    """Everything random goes through one seeded `random.Random`, so the output is reproducible."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.posts = self._posts()
        self.authors: dict[str, list[Author]] = {n: self._authors(n) for n in BRAND_IN_TEXT}
        self.items: list[Item] = []
        self._used_texts: set[tuple[str, str]] = set()
        self._seq = 0

    # ---------------------------------------------------------------- calendar and people

    def _posts(self) -> dict[str, Post]:
        rng = self.rng

        def at(day: int, hour: int, minute: int = 0) -> datetime:
            return datetime(2026, 11, day, hour, minute, tzinfo=UTC)

        def shortcode() -> str:
            return base64.urlsafe_b64encode(rng.randbytes(8)).decode()[:11]

        ig1 = str(rng.randrange(17_900_000_000_000_000, 17_999_999_999_999_999))
        ig2 = str(int(ig1) + rng.randrange(10**12, 10**13))
        fb1 = str(rng.randrange(900_000_000_000_000, 999_999_999_999_999))
        fb2 = str(int(fb1) + rng.randrange(10**9, 10**10))
        x1 = str(_snowflake(at(20, 16), 7))
        masto1 = str(_masto_id(at(21, 13), 3))
        posts = [
            Post("ig-aurore", "instagram", at(20, 8), "Nouvelle collection Aurore : la lumière du matin",
                 "product", False, ig1, f"https://www.instagram.com/p/{shortcode()}/"),
            Post("fb-atelier", "facebook", at(20, 11), "Dans l'atelier : le soufflage des globes Nébuleuse",
                 "craft", False, f"{FB_PAGE_ID}_{fb1}", f"https://www.facebook.com/maisonlumen/posts/{fb1}"),
            Post("x-teaser", "x", at(20, 16), "Teaser Black Friday : quelque chose se prépare pour demain ✨",
                 "promo", True, x1, f"https://x.com/maisonlumen/status/{x1}"),
            Post("ig-bf", "instagram", at(21, 9), "Black Friday en avance : -20 % sur la collection Aurore",
                 "promo", True, ig2, f"https://www.instagram.com/p/{shortcode()}/"),
            Post("fb-bf", "facebook", at(21, 9, 15),
                 "Black Friday en avance : -20 % sur la collection Aurore", "promo", True,
                 f"{FB_PAGE_ID}_{fb2}", f"https://www.facebook.com/maisonlumen/posts/{fb2}"),
            Post("masto-abatjour", "mastodon", at(21, 13), "Comment nous fabriquons nos abat-jour en lin",
                 "craft", False, masto1, f"{MASTO_BRAND_URL}/{masto1}"),
            Post("ig-cosy", "instagram", at(22, 10), "Dimanche cosy : 3 idées d'éclairage pour l'hiver",
                 "inspiration", False),
            Post("x-livraisons", "x", at(23, 17, 30), "Point livraisons : où en sont vos commandes",
                 "customer-care", False),
            Post("fb-portrait", "facebook", at(25, 18), "Portrait : Inès, verrière de l'atelier",
                 "team", False),
            Post("ig-bf-j0", "instagram", at(27, 7), "Black Friday : -25 % sur toute la boutique",
                 "promo", True),
            Post("masto-coulisses", "mastodon", at(28, 10), "Les coulisses de notre Black Friday",
                 "behind-the-scenes", False),
        ]  # fmt: skip
        result = {p.key: p for p in posts}
        # Posts published before the scenario: early comments land on them. Not in calendar.json.
        result["ig-legacy"] = Post("ig-legacy", "instagram", START - timedelta(days=2), "", "", False,
                                   str(int(ig1) - rng.randrange(10**12, 10**13)))  # fmt: skip
        result["fb-legacy"] = Post("fb-legacy", "facebook", START - timedelta(days=3), "", "", False,
                                   f"{FB_PAGE_ID}_{int(fb1) - rng.randrange(10**9, 10**10)}")  # fmt: skip
        return result

    def _authors(self, network: str) -> list[Author]:
        rng = self.rng
        people: list[Author] = []
        seen: set[str] = set()
        for lang, count in (("fr", 44), ("en", 30)):
            for _ in range(count):
                first, last = rng.choice(FIRST_NAMES[lang]), rng.choice(LAST_NAMES[lang])
                handle = _handle(rng, network, first, last)
                if handle in seen:
                    continue
                seen.add(handle)
                people.append(self._author(network, handle, f"{first} {last}", lang, "regular"))
        for handle, name, lang, role, followers, extra in SPECIAL_AUTHORS[network]:
            people.append(self._author(network, handle, name, lang, role, followers=followers, **extra))
        return people

    def _author(
        self,
        network: str,
        handle: str,
        name: str,
        lang: str,
        role: str,
        *,
        followers: int | None = None,
        **extra: str,
    ) -> Author:
        rng = self.rng
        if followers is None:
            followers = min(int(rng.lognormvariate(5.4, 1.2)), 40_000)
        uid = {
            "x": lambda: str(rng.randrange(10**9, 10**19)),
            "instagram": lambda: str(rng.randrange(17_841_400_000_000_000, 17_841_499_999_999_999)),
            "facebook": lambda: str(rng.randrange(10**15, 10**16)),
            "mastodon": lambda: str(rng.randrange(10**17, 10**18)),
        }[network]()
        instance = extra.pop("instance", "") or (
            rng.choice(MASTO_INSTANCES[lang]) if network == "mastodon" else ""
        )
        return Author(network, handle, name, lang, role, followers, uid, instance=instance, **extra)

    def _pick_author(self, network: str, lang: str, role: str) -> Author:
        pool = [a for a in self.authors[network] if a.role == role and a.lang == lang]
        if not pool:
            pool = [a for a in self.authors[network] if a.role == role]
        # Zipf-like weights: a few regulars come back several times, most appear once.
        weights = [1 / (rank + 1) ** 0.5 for rank in range(len(pool))]
        return self.rng.choices(pool, weights=weights)[0]

    # ---------------------------------------------------------------- when things happen

    def _daytime(self, t: datetime) -> float:
        return HOUR_WEIGHT[t.astimezone(PARIS).hour] / max(HOUR_WEIGHT)

    def _time_between(self, lo: datetime, hi: datetime) -> datetime:
        span = (hi - lo).total_seconds()
        while True:
            t = lo + timedelta(seconds=self.rng.random() * span)
            if self.rng.random() < self._daytime(t):
                return t.replace(microsecond=0)

    def _time_after(self, start: datetime, mean_hours: float) -> datetime:
        while True:
            t = start + timedelta(seconds=60 + self.rng.expovariate(1 / (mean_hours * 3600)))
            if t < END and self.rng.random() < self._daytime(t):
                return t.replace(microsecond=0)

    def _burst_time(self) -> datetime:
        # Two hours after the Black Friday post, peaking 40 minutes into a 90-minute storm.
        minutes = self.rng.triangular(0, 90, 40)
        return (datetime(2026, 11, 21, 11, 0, tzinfo=UTC) + timedelta(minutes=minutes)).replace(microsecond=0)

    # ---------------------------------------------------------------- what happens

    def _add(
        self,
        network: str,
        at: datetime,
        mix: dict[str, float],
        *,
        target: str = "",
        reply_to_brand: bool = False,
        reply_chance: float = 0.0,
    ) -> None:
        rng = self.rng
        category = rng.choices(list(mix), weights=list(mix.values()))[0]
        role = {"influencer": "influencer", "press": "journalist", "spam": "spam"}.get(category, "regular")
        if category == "hostile" and rng.random() < 0.5:
            role = "troll"
        lang = "fr" if rng.random() < FR_SHARE[network] else "en"
        author = self._repeat_complainer(network, lang) if category == "burst" else None
        author = author or self._pick_author(network, lang, role)
        self.items.append(
            Item(network, at, author.lang, category, author, target, reply_to_brand=reply_to_brand,
                 reply_chance=reply_chance)
        )  # fmt: skip

    def _repeat_complainer(self, network: str, lang: str) -> Author | None:
        # Angry customers come back: a third of the burst is people who complained before.
        earlier = [i.author for i in self.items if i.network == network and i.category == "delivery"]
        earlier = [a for a in earlier if a.lang == lang]
        return self.rng.choice(earlier) if earlier and self.rng.random() < 0.35 else None

    def build(self) -> None:
        """Lay out every item in time, pick authors, reply threads and texts."""
        mention_mix = {"praise": 26, "question": 22, "delivery": 16, "recruitment": 4, "press": 4,
                       "influencer": 3, "spam": 8, "hostile": 6, "chatter": 11}  # fmt: skip
        product_mix = {"praise": 36, "question": 24, "delivery": 8, "tag_friend": 12, "spam": 6,
                       "hostile": 3, "recruitment": 2, "press": 1, "influencer": 3, "chatter": 6}  # fmt: skip
        fb_mix = {"praise": 30, "question": 25, "delivery": 15, "tag_friend": 8, "spam": 5, "hostile": 5,
                  "recruitment": 4, "press": 2, "influencer": 1, "chatter": 6}  # fmt: skip
        promo_mix = {"promo_interest": 45, "praise": 15, "question": 18, "tag_friend": 8, "delivery": 9,
                     "spam": 5}  # fmt: skip
        teaser_mix = {"promo_interest": 60, "praise": 10, "delivery": 15, "question": 10, "hostile": 5}
        burst_mix = {"burst": 78, "delivery": 10, "hostile": 12}
        craft_mix = {"praise": 55, "question": 30, "chatter": 15}
        p = self.posts

        for _ in range(95):
            self._add("x", self._time_between(START, END), mention_mix)
        for _ in range(12):
            self._add(
                "x",
                self._time_after(p["x-teaser"].at, 2.0),
                teaser_mix,
                target="x-teaser",
                reply_to_brand=True,
            )
        for _ in range(14):
            self._add("x", self._burst_time(), burst_mix, reply_chance=0.3)

        for _ in range(6):
            self._add("instagram", self._time_between(START, START + timedelta(hours=4)), product_mix,
                      target="ig-legacy")  # fmt: skip
        for _ in range(48):
            self._add("instagram", self._time_after(p["ig-aurore"].at, 5.0), product_mix, target="ig-aurore",
                      reply_chance=0.15)  # fmt: skip
        for _ in range(20):
            self._add("instagram", self._time_after(p["ig-bf"].at, 3.0), promo_mix, target="ig-bf",
                      reply_chance=0.1)  # fmt: skip
        for _ in range(30):
            self._add("instagram", self._burst_time(), burst_mix, target="ig-bf", reply_chance=0.35)

        for _ in range(6):
            self._add(
                "facebook", self._time_between(START, START + timedelta(hours=6)), fb_mix, target="fb-legacy"
            )
        for _ in range(32):
            self._add("facebook", self._time_after(p["fb-atelier"].at, 5.0), fb_mix, target="fb-atelier",
                      reply_chance=0.2)  # fmt: skip
        for _ in range(10):
            self._add("facebook", self._time_after(p["fb-bf"].at, 3.0), promo_mix, target="fb-bf",
                      reply_chance=0.1)  # fmt: skip
        for _ in range(8):
            self._add("facebook", self._burst_time(), burst_mix, target="fb-bf", reply_chance=0.35)

        for _ in range(42):
            self._add("mastodon", self._time_between(START, END), mention_mix)
        for _ in range(10):
            self._add("mastodon", self._time_after(p["masto-abatjour"].at, 1.5), craft_mix,
                      target="masto-abatjour", reply_to_brand=True)  # fmt: skip
        for _ in range(4):
            self._add("mastodon", self._burst_time(), burst_mix)

        self._add_specials()
        self.items.sort(key=lambda item: (item.at, item.network))
        self._thread_replies()
        for item in self.items:
            item.text = self._compose(item)

    def _add_specials(self) -> None:
        """Items placed by hand: Slack control sequences, a very long text, the big accounts."""

        def at(day: int, hour: int, minute: int, second: int) -> datetime:
            return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)

        specials = [
            ("x", at(20, 10, 42, 17), "fr", "troll", "hostile", "",
             "<!channel> ATTENTION arnaque Maison Lumen, ne commandez pas, partagez !!"),
            ("x", at(21, 11, 24, 51), "en", "troll", "hostile", "",
             "hey <@U12345> you should see this, better price here "
             "<http://evil.example|maisonlumen.com/black-friday>"),
            ("instagram", at(20, 14, 5, 33), "fr", "spam", "spam", "ig-aurore",
             "Votre compte va être suspendu, vérifiez vos informations ici "
             "<http://evil.example|your bank> 🔒"),
            ("facebook", at(20, 12, 31, 8), "fr", "regular", "praise", "fb-atelier",
             "Tom & Léa adorent leur lampe & nous aussi <!here> 💛"),
            ("facebook", at(21, 16, 10, 45), "en", "regular", "hostile", "fb-bf",
             "Prices < 100 € & delivery > 2 weeks?? <!everyone> read the reviews first"),
            ("mastodon", at(20, 19, 12, 4), "fr", "regular", "delivery", "",
             "Question sérieuse <!channel> : qui a reçu sa commande ? <@U12345> & moi on attend toujours 🙃"),
            ("facebook", at(21, 14, 20, 12), "fr", "regular", "delivery", "fb-bf", LONG_COMPLAINT),
            # Big accounts, so follower counts matter somewhere (text drawn from the influencer bank).
            ("x", at(20, 19, 37, 2), "en", "influencer", "influencer", "", None),
            ("x", at(21, 12, 48, 40), "fr", "influencer", "influencer", "", None),
            ("instagram", at(20, 10, 3, 55), "fr", "influencer", "influencer", "ig-aurore", None),
            ("mastodon", at(20, 20, 15, 9), "fr", "influencer", "influencer", "", None),
        ]  # fmt: skip
        for network, when, lang, role, category, target, text in specials:
            author = self._pick_author(network, lang, role)
            self.items.append(Item(network, when, lang, category, author, target, fixed_text=text))

    def _thread_replies(self) -> None:
        """Turn some items into replies to an earlier item of the same thread (IG, FB, X)."""
        rng = self.rng
        for index, item in enumerate(self.items):
            if item.reply_chance <= 0 or rng.random() >= item.reply_chance:
                continue
            if item.category in ("press", "influencer", "recruitment", "tag_friend") or item.fixed_text:
                continue  # these speak to the brand, not to another commenter
            candidates = [
                other
                for other in self.items[:index]
                if other.network == item.network
                and other.target == item.target
                and other.parent is None
                and not other.reply_to_brand
                and other.author is not item.author
                and other.author.role not in ("spam", "troll")
                and item.at - other.at < timedelta(hours=8)
            ]
            candidates = [c for c in candidates if c.lang == item.lang] or candidates
            if item.category == "burst":
                candidates = [c for c in candidates if c.category in ("burst", "delivery")] or candidates
            if candidates:
                item.parent = rng.choice(candidates[-12:])

    # ---------------------------------------------------------------- words

    def _compose(self, item: Item) -> str:
        body = item.fixed_text if item.fixed_text is not None else self._fill(item)
        brand = "@maisonlumen"
        if item.network == "x":
            if item.parent is not None:
                return f"@{item.parent.author.handle} {brand} {body}"
            if item.reply_to_brand:
                return f"{brand} {body}"
            if brand in body:
                return body
            return f"{brand} {body}" if self.rng.random() < 0.65 else f"{body} {brand}"
        if item.parent is not None and item.network == "instagram":
            return f"@{item.parent.author.handle} {body}"
        if item.parent is not None and item.network == "facebook" and self.rng.random() < 0.5:
            # Facebook tags the person replied to by name at the start of the reply.
            return f"{item.parent.author.name} {body}"
        return body

    def _fill(self, item: Item) -> str:
        rng = self.rng
        lang = item.lang
        for _attempt in range(6):
            template = rng.choice(TEMPLATES[item.category][lang])
            products = PRODUCTS[lang]
            # Comments under the Aurore posts mostly talk about the Aurore lamp.
            product = (
                products[0] if item.target in ("ig-aurore", "ig-bf", "fb-bf") and rng.random() < 0.6 else None
            )
            hi = rng.choice(GREETINGS[lang])
            slots = {
                "product": product or rng.choice(products),
                "color": rng.choice(COLORS[lang]),
                "city": rng.choice(CITIES[lang]),
                "days": str(rng.choice([3, 4, 5, 6, 8, 10, 12, 15])),
                "weeks": str(rng.choice([2, 3, 3, 4, 5])),
                "order": f"#ML-{rng.randint(41000, 48999)}",
                "date": f"{rng.randint(2, 9)} novembre",
                "pub": item.author.pub or rng.choice(PUBLICATIONS),
                "short": f"https://{rng.choice(SHORTENERS)}/{_code(rng, 7)}",
                "emoji": rng.choice(
                    NEGATIVE_EMOJI if item.category in NEGATIVE_CATEGORIES else POSITIVE_EMOJI
                ),
                "hi": hi,
                "friend": self._friend(item),
                "brand": BRAND_IN_TEXT[item.network],
            }
            text = template.format(**slots)
            # "Bonjour, la lampe…" stays lower case; "Hello ! La lampe…" and a bare start do not.
            if template.startswith("{hi}") and (not hi or hi.endswith("! ")):
                text = hi + text[len(hi) : len(hi) + 1].upper() + text[len(hi) + 1 :]
            if (item.network, text) not in self._used_texts or len(text) < 16:
                break
        self._used_texts.add((item.network, text))
        return text

    def _friend(self, item: Item) -> str:
        regulars = [a for a in self.authors[item.network] if a.role == "regular" and a is not item.author]
        friend = self.rng.choice(regulars)
        return (
            friend.name.split()[0] + " " + friend.name.split()[-1]
            if item.network == "facebook"
            else f"@{friend.handle}"
        )

    # ---------------------------------------------------------------- network formats

    def render(self) -> dict[str, list[dict[str, Any]]]:
        """Return the replay events of each network, in time order."""
        for item in self.items:  # ids follow time, as the networks' ids do
            item.ext_id = self._new_id(item)
        groups: dict[tuple[str, str, str, datetime], list[Item]] = defaultdict(list)
        for item in self.items:
            bucket = START + BUCKET * math.floor((item.at - START) / BUCKET)
            # Instagram replies come from GET /{ig-comment-id}/replies: one page per parent comment.
            thread = item.parent.ext_id if item.network == "instagram" and item.parent else ""
            groups[(item.network, item.target, thread, bucket)].append(item)
        pages = {
            "x": self._page_x,
            "instagram": self._page_instagram,
            "facebook": self._page_facebook,
            "mastodon": self._page_mastodon,
        }
        events: dict[str, list[dict[str, Any]]] = {n: [] for n in BRAND_IN_TEXT}
        for (network, target, _thread, bucket), members in groups.items():
            event: dict[str, Any] = {"at": _iso_z(bucket + BUCKET), "network": network}
            if network in ("instagram", "facebook"):
                event["object_id"] = self.posts[target].external_id
            event["payload"] = pages[network](members)
            events[network].append(event)
        for network_events in events.values():
            network_events.sort(key=lambda e: e["at"])
        return events

    def _new_id(self, item: Item) -> str:
        self._seq += 1
        rng = self.rng
        if item.network == "x":
            return str(_snowflake(item.at, self._seq, rng.getrandbits(10)))
        if item.network == "mastodon":
            item.extra["notification_id"] = str(48_213_577 + self._seq * 7 + rng.randrange(7))
            return str(_masto_id(item.at, self._seq))
        if item.network == "instagram":
            return str(17_850_000_000_000_000 + self._seq * 1_000_003_917 + rng.randrange(10**6))
        post_number = (self.posts[item.target].external_id or "_").split("_")[1]
        return f"{post_number}_{1_089_274_600_000_000 + self._seq * 97_531 + rng.randrange(10**4)}"

    def _page_x(self, members: list[Item]) -> dict[str, Any]:
        posts = []
        users: dict[str, dict[str, Any]] = {}
        brand_post = self.posts["x-teaser"]
        for item in sorted(members, key=lambda i: i.at, reverse=True):  # newest first, as X returns them
            post: dict[str, Any] = {
                "id": item.ext_id,
                "text": item.text,
                "author_id": item.author.uid,
                "created_at": item.at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "lang": item.lang,
                "conversation_id": item.ext_id,
                "edit_history_tweet_ids": [item.ext_id],
                "public_metrics": self._x_metrics(item),
            }
            if item.parent is not None:
                post["conversation_id"] = item.parent.ext_id
                post["in_reply_to_user_id"] = item.parent.author.uid
                post["referenced_tweets"] = [{"type": "replied_to", "id": item.parent.ext_id}]
            elif item.reply_to_brand:
                post["conversation_id"] = brand_post.external_id
                post["in_reply_to_user_id"] = X_BRAND_ID
                post["referenced_tweets"] = [{"type": "replied_to", "id": brand_post.external_id}]
            posts.append(post)
            a = item.author
            users[a.uid] = {
                "id": a.uid,
                "name": a.name,
                "username": a.handle,
                "public_metrics": {
                    "followers_count": a.followers,
                    "following_count": _stable(a.uid, 40, 1800),
                    "tweet_count": _stable(a.uid, 30, 42000),
                    "listed_count": a.followers // 400,
                },
            }
        return {
            "data": posts,
            "includes": {"users": list(users.values())},
            "meta": {
                "newest_id": posts[0]["id"],
                "oldest_id": posts[-1]["id"],
                "result_count": len(posts),
            },
        }

    def _x_metrics(self, item: Item) -> dict[str, int]:
        reach = max(item.author.followers, 20)
        likes = int(reach * self.rng.uniform(0.002, 0.03))
        return {
            "retweet_count": likes // 6,
            "reply_count": self.rng.randint(0, 3),
            "like_count": likes,
            "quote_count": likes // 20,
            "bookmark_count": likes // 10,
            "impression_count": int(reach * self.rng.uniform(0.2, 1.5)) + 30,
        }

    def _page_instagram(self, members: list[Item]) -> dict[str, Any]:
        data = []
        for item in sorted(members, key=lambda i: i.at, reverse=True):
            comment: dict[str, Any] = {
                "id": item.ext_id,
                "text": item.text,
                "timestamp": item.at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "username": item.author.handle,
                "like_count": self.rng.choice([0, 0, 0, 1, 1, 2, 3, 5, 8]),
                "from": {"id": item.author.uid, "username": item.author.handle},
            }
            if item.parent is not None:
                comment["parent_id"] = item.parent.ext_id
            data.append(comment)
        return {"data": data, "paging": self._graph_paging()}

    def _page_facebook(self, members: list[Item]) -> dict[str, Any]:
        data = []
        for item in sorted(members, key=lambda i: i.at):  # Facebook's default order is chronological
            post_number = item.ext_id.split("_")[0]
            comment_number = item.ext_id.split("_")[1]
            permalink = (
                f"https://www.facebook.com/{FB_PAGE_ID}/posts/{post_number}/?comment_id={comment_number}"
            )
            if item.parent is not None:
                parent_number = item.parent.ext_id.split("_")[1]
                permalink = (
                    f"https://www.facebook.com/{FB_PAGE_ID}/posts/{post_number}/"
                    f"?comment_id={parent_number}&reply_comment_id={comment_number}"
                )
            comment: dict[str, Any] = {
                "id": item.ext_id,
                "message": item.text,
                "created_time": item.at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "permalink_url": permalink,
            }
            # Facebook withholds some commenters' profiles (privacy): no `from` at all.
            if _stable(item.author.uid, 0, 100) >= 18:
                comment["from"] = {"id": item.author.uid, "name": item.author.name}
            if item.parent is not None:
                comment["parent"] = {
                    "created_time": item.parent.at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                    "message": item.parent.text,
                    "id": item.parent.ext_id,
                }
            data.append(comment)
        return {"data": data, "paging": self._graph_paging()}

    def _graph_paging(self) -> dict[str, Any]:
        def cursor() -> str:
            return base64.b64encode(b"QVFI" + self.rng.randbytes(30)).decode().rstrip("=")

        return {"cursors": {"before": cursor(), "after": cursor()}}

    def _page_mastodon(self, members: list[Item]) -> list[dict[str, Any]]:
        page = []
        brand_post = self.posts["masto-abatjour"]
        for item in sorted(members, key=lambda i: i.at, reverse=True):  # newest first
            account = self._masto_account(item.author)
            created = item.at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            status = {
                "id": item.ext_id,
                "created_at": created,
                "in_reply_to_id": brand_post.external_id if item.reply_to_brand else None,
                "in_reply_to_account_id": MASTO_BRAND_ID if item.reply_to_brand else None,
                "sensitive": False,
                "spoiler_text": "",
                "visibility": "public",
                "language": item.lang,
                "uri": f"https://{item.author.instance}/users/{item.author.handle}/statuses/{item.ext_id}",
                "url": f"https://{item.author.instance}/@{item.author.handle}/{item.ext_id}",
                "replies_count": 0,
                "reblogs_count": self.rng.choice([0, 0, 0, 1, 2]),
                "favourites_count": self.rng.choice([0, 1, 1, 2, 3, 5]),
                "content": _masto_html(item.text),
                "account": account,
                "mentions": [
                    {
                        "id": MASTO_BRAND_ID,
                        "username": "maisonlumen",
                        "url": MASTO_BRAND_URL,
                        "acct": "maisonlumen",
                    }
                ],
                "tags": [],
                "emojis": [],
                "media_attachments": [],
                "card": None,
                "poll": None,
            }
            page.append(
                {
                    "id": item.extra["notification_id"],
                    "type": "mention",
                    "created_at": created,
                    "account": account,
                    "status": status,
                }
            )
        return page

    def _masto_account(self, author: Author) -> dict[str, Any]:
        return {
            "id": author.uid,
            "username": author.handle,
            "acct": author.acct,
            "display_name": author.name,
            "locked": False,
            "bot": author.role == "spam",
            "created_at": f"20{_stable(author.uid, 17, 25)}-0{_stable(author.uid, 1, 9)}-12T00:00:00.000Z",
            "note": "",
            "url": f"https://{author.instance}/@{author.handle}",
            "followers_count": author.followers,
            "following_count": _stable(author.uid, 20, 900),
            "statuses_count": _stable(author.uid, 15, 9000),
        }


# --------------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------------

FIRST_NAMES = {
    "fr": ["Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Élise", "Margaux", "Pauline",
           "Claire", "Anaïs", "Hugo", "Thomas", "Lucas", "Julien", "Antoine", "Maxime", "Nicolas", "Romain",
           "Mathieu", "Baptiste", "Louis", "Théo", "Aurélie", "Sophie", "Émilie", "Hélène", "Nathalie",
           "Gaëlle", "Yasmine", "Karim", "Mehdi", "Sofiane", "Nadia", "Océane", "Agathe", "Bastien"],
    "en": ["Emma", "Olivia", "Amelia", "Grace", "Hannah", "Chloe", "Lucy", "Ella", "Charlotte", "James",
           "Oliver", "Jack", "Harry", "Daniel", "Sam", "Ben", "Noah", "Liam", "Ethan", "Maya", "Priya",
           "Aisha", "Zoe", "Nora", "Freya", "Leo", "Isla", "Ruby"],
}  # fmt: skip
LAST_NAMES = {
    "fr": ["Martin", "Bernard", "Dubois", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
           "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent",
           "Fournier", "Morel", "Girard", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier",
           "Benali", "Haddad", "Nguyen", "Lemoine", "Perrin"],
    "en": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright",
           "Walker", "Hughes", "Green", "Hall", "Clarke", "Lewis", "Baker", "Murphy", "Kelly", "Reid",
           "Campbell", "Fischer", "Jensen"],
}  # fmt: skip
MASTO_INSTANCES = {
    "fr": ["piaille.fr", "piaille.fr", "mastodon.social", "framapiaf.org", "mamot.fr", "eldritch.cafe"],
    "en": ["mastodon.social", "hachyderm.io", "mastodon.online", "fosstodon.org", "mas.to"],
}

# (handle, display name, language, role, followers, extra fields)
SPECIAL_AUTHORS: dict[str, list[tuple[str, str, str, str, int, dict[str, str]]]] = {
    "x": [
        ("hugo_decode", "Hugo | Déco & DIY", "fr", "influencer", 248_700, {}),
        ("thenestedhome", "Nina | The Nested Home", "en", "influencer", 512_400, {}),
        ("lea_fontaine_", "Léa Fontaine", "fr", "journalist", 8_940, {"pub": "Maisons & Lumières"}),
        ("tomreid_writes", "Tom Reid", "en", "journalist", 12_380, {"pub": "The Interior Post"}),
        ("deals4u_2026", "Super Deals 🔥", "fr", "spam", 14, {}),
        ("cashflow_dan88", "Dan | Passive Income", "en", "spam", 57, {}),
        ("lumiere_noire_", "Lumière Noire", "fr", "troll", 203, {}),
        ("grumpydave77", "Dave", "en", "troll", 88, {}),
    ],
    "instagram": [
        ("claire.interieurs", "Claire Vasseur", "fr", "influencer", 184_300, {}),
        ("slowliving.with.ava", "Ava Thompson", "en", "influencer", 96_200, {}),
        ("design.hebdo", "Design Hebdo", "fr", "journalist", 41_000, {"pub": "Design Hebdo"}),
        ("promo.flash.shop", "Promo Flash", "fr", "spam", 3, {}),
        ("followers.boost.pro", "Boost Pro", "en", "spam", 11, {}),
        ("vrai.avis.conso", "Vrai Avis", "fr", "troll", 140, {}),
        ("no.more.hype", "no more hype", "en", "troll", 65, {}),
    ],
    "facebook": [
        ("", "Sophie Marchal", "fr", "journalist", 0, {"pub": "Le Petit Artisan"}),
        ("", "Gains Faciles", "fr", "spam", 0, {}),
        ("", "Global Deals Today", "en", "spam", 0, {}),
        ("", "Gérard Lambert", "fr", "troll", 0, {}),
        ("", "Kevin Price", "en", "troll", 0, {}),
        ("", "Marion Décore", "fr", "influencer", 0, {}),
    ],
    "mastodon": [
        ("lucie_makes", "Lucie 🪡 fait main", "fr", "influencer", 18_400, {"instance": "mastodon.art"}),
        ("pauline_m", "Pauline M. (journaliste)", "fr", "journalist", 3_210,
         {"instance": "mamot.fr", "pub": "Design Hebdo"}),
        ("bestdeals", "Best Deals", "en", "spam", 2, {"instance": "mstdn.example"}),
        ("freebies_fr", "Cadeaux Gratuits", "fr", "spam", 5, {"instance": "mstdn.example"}),
        ("rageux", "Râleur pro", "fr", "troll", 48, {"instance": "piaille.fr"}),
        ("angry_otter", "angry otter", "en", "troll", 31, {"instance": "mas.to"}),
    ],
}  # fmt: skip


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _handle(rng: random.Random, network: str, first: str, last: str) -> str:
    f, last_ascii = _ascii(first), _ascii(last)
    sep = "." if network == "instagram" and rng.random() < 0.6 else "_"
    styles = [
        f"{f}{last_ascii}",
        f"{f}{sep}{last_ascii}",
        f"{f}{sep}{last_ascii[:3]}",
        f"{f}{last_ascii[0]}{rng.randint(2, 99)}",
        f"{last_ascii}{sep}{f}",
        f"{f}{sep}{rng.choice(['deco', 'home', 'lyon', 'paris', 'atelier', 'makes', 'studio'])}",
    ]
    return rng.choice(styles)[: 15 if network == "x" else 30]


def _code(rng: random.Random, length: int) -> str:
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(rng.choice(alphabet) for _ in range(length))


def _stable(key: str, lo: int, hi: int) -> int:
    """Return a number in [lo, hi) derived from `key`, so one person's counts agree across pages."""
    return lo + int(key[-6:]) % (hi - lo) if key[-6:].isdigit() else lo


def _snowflake(at: datetime, seq: int, worker: int = 0) -> int:
    ms = int(at.timestamp() * 1000) + seq % 997
    return ((ms - X_EPOCH_MS) << 22) | (worker << 12) | (seq % 4096)


def _masto_id(at: datetime, seq: int) -> int:
    # Mastodon ids are a millisecond timestamp shifted 16 bits, plus a sequence.
    return (int(at.timestamp() * 1000) << 16) | (seq % 65536)


def _iso_z(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _masto_html(text: str) -> str:
    """Render text the way Mastodon serves `content`: mention h-card, <p> paragraphs, <br />, links."""
    hcard = (
        f'<span class="h-card" translate="no"><a href="{MASTO_BRAND_URL}" class="u-url mention">'
        "@<span>maisonlumen</span></a></span>"
    )
    paragraphs = []
    for index, para in enumerate(text.split("\n\n")):
        words = []
        for word in escape(para, quote=False).split(" "):
            if word.startswith("https://"):
                rest = word.removeprefix("https://")
                word = (
                    f'<a href="https://{rest}" target="_blank" rel="nofollow noopener noreferrer" '
                    'translate="no">'
                    f'<span class="invisible">https://</span><span class="">{rest}</span>'
                    '<span class="invisible"></span></a>'
                )
            words.append(word)
        body = " ".join(words).replace("\n", "<br />")
        paragraphs.append(f"<p>{hcard} {body}</p>" if index == 0 else f"<p>{body}</p>")
    return "".join(paragraphs)


def write_scenario(out_dir: Path = OUT_DIR, seed: int = SEED) -> dict[str, Counter[str]]:
    """Generate and write the scenario files; return item counts per network and language."""
    builder = ScenarioBuilder(seed)
    builder.build()
    events = builder.render()
    out_dir.mkdir(parents=True, exist_ok=True)
    for network, network_events in events.items():
        _write_json(out_dir / f"{network}.json", network_events)
    calendar = [post.calendar_entry() for post in builder.posts.values() if not post.key.endswith("-legacy")]
    _write_json(out_dir / "calendar.json", calendar)
    counts: dict[str, Counter[str]] = {network: Counter() for network in events}
    for item in builder.items:
        counts[item.network][item.lang] += 1
    return counts


def _write_json(path: Path, data: Any) -> None:
    # One event per line keeps the files diffable without doubling their size with indentation.
    if isinstance(data, list):
        lines = ",\n".join(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) for entry in data)
        path.write_text(f"[\n{lines}\n]\n", encoding="utf-8")
    else:
        path.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    """Write the bundled scenario and print its item counts per network and language."""
    counts = write_scenario()
    lines = [f"{net:<10} {sum(c.values()):>4} items  fr={c['fr']} en={c['en']}" for net, c in counts.items()]
    grand = sum(sum(c.values()) for c in counts.values())
    french = sum(c["fr"] for c in counts.values())
    lines.append(f"{'total':<10} {grand:>4} items  fr={french / grand:.0%}  -> {OUT_DIR}")
    print("\n".join(lines))  # noqa: T201


if __name__ == "__main__":
    main()
