"""Write assets/reviews/reviews.csv: the fine-tuning lesson's product-review
sentiment set, written for Glassbox (not copied from a published data set).

Each review is composed from phrases written here: an opening, one or two
aspect sentences and a closing, for a product. About a third of the reviews
turn against their opening ("I expected to hate it, but…"), and about a
quarter concede one point to the other side ("My one complaint: …", "To be
fair, …"), so that a keyword count is not enough to get the label right.

The validation and test reviews are held out at the phrase level, not only as
whole reviews: their products and concessions come from banks the training
reviews never use, and each has at least one held-out aspect sentence, so a
model that memorised the training sentences cannot get them right from those
alone. Openings and closings ("Highly recommended.") are shared, as stock
phrases are in real reviews; with them held out too, the default fine-tuning
run reached 83.8% test accuracy instead of 85% (benchmarks/README.md).
Deterministic: the same seed gives the same file.

    python scripts/make_reviews.py
"""
import csv
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "assets" / "reviews" / "reviews.csv"
SEED = 2017
PER_LABEL = 400
SPLITS = {"train": 0.70, "validation": 0.10, "test": 0.20}

PRODUCTS = ["wireless headphones", "coffee grinder", "hiking backpack", "running shoes", "desk lamp",
            "phone case", "blender", "e-reader", "office chair", "electric kettle", "yoga mat",
            "bluetooth speaker", "rice cooker", "winter jacket", "mechanical keyboard", "water bottle",
            "air fryer", "travel pillow", "webcam", "kitchen scale", "toaster", "smartwatch",
            "umbrella", "board game", "sleeping bag", "hair dryer", "monitor stand", "cast-iron pan",
            "kids' bike helmet", "noise machine"]

HELD_OUT_PRODUCTS = ["garden hose", "stand mixer", "laptop sleeve", "ceiling fan", "dog leash", "tent",
                     "electric toothbrush", "bike light"]

OPENINGS = {
    1: ["I bought the {p} last month and it has been a pleasure to use.",
        "Honestly the best {p} I have owned.",
        "This {p} does exactly what it promises.",
        "Five stars for this {p}.",
        "My partner recommended this {p} and I am glad I listened.",
        "Worth every penny: the {p} arrived quickly and works perfectly.",
        "I have used the {p} daily for three weeks and I still love it."],
    0: ["I returned the {p} after a week.",
        "Very disappointed with this {p}.",
        "The {p} stopped working after a few days.",
        "One star, and only because zero is not an option for this {p}.",
        "I regret buying this {p}.",
        "Do not waste your money on this {p}.",
        "The {p} looked nice in the photos, but that is all it has going for it."],
}

TURNS = {  # an opening that points the other way, then the real verdict
    1: ["I expected to hate the {p} after reading some reviews, but it won me over.",
        "The box arrived dented and I feared the worst, yet the {p} inside is flawless.",
        "At first I thought the {p} was overpriced; now I would pay double.",
        "Setting up the {p} took a while, but since then it has been faultless."],
    0: ["The {p} looked great out of the box, but the excitement did not last.",
        "I wanted to love this {p}, I really did.",
        "The first day with the {p} was fine; everything after that was a letdown.",
        "Nice packaging, shame about the {p} itself."],
}

ASPECTS = {
    1: ["The build quality is solid and it feels like it will last for years.",
        "It is quiet, fast and easy to clean.",
        "Customer service answered my question within an hour.",
        "The battery easily lasts the whole week.",
        "It is comfortable even after hours of use.",
        "Everything was well packed and the instructions were clear.",
        "For the price, nothing else comes close.",
        "It looks even better in person than in the pictures.",
        "My kids use it every day and it still looks new.",
        "It fits perfectly and the materials feel premium."],
    0: ["The plastic feels cheap and one hinge cracked already.",
        "It is loud, slow and a nightmare to clean.",
        "Customer service never replied to my three emails.",
        "The battery barely survives an afternoon.",
        "It becomes uncomfortable after ten minutes.",
        "Half the parts were missing and the manual made no sense.",
        "It is far too expensive for what you get.",
        "The colour is nothing like the pictures.",
        "It broke the second time my kids used it.",
        "The sizing is way off and the stitching came loose."],
}

HELD_OUT_ASPECTS = {
    1: ["Assembly took five minutes and needed no tools.",
        "The warranty covers everything for three years.",
        "It survived a drop onto concrete without a scratch.",
        "Even my picky teenager uses it without complaint.",
        "It heats up, charges or starts in seconds."],
    0: ["The seams split the first time I used it.",
        "It smelled of burnt plastic from the first use.",
        "The app keeps crashing and the settings reset themselves.",
        "Returning it cost me more in postage than it was worth.",
        "It wobbles no matter how I set it up."],
}

CONCESSIONS = {  # a point for the other side: a small complaint in a good review, a kind word in a bad one
    1: ["My one complaint: the cable is a little short.", "The only downside is the colour, duller than in the photos.",
        "It is a bit heavier than I expected, but that is a small thing.",
        "Delivery took a week longer than promised."],
    0: ["To be fair, it looks nice on the shelf.", "Admittedly, delivery was quick.",
        "The packaging was lovely, I will give it that.", "Customer service was polite, at least."],
}
HELD_OUT_CONCESSIONS = {1: ["The instructions could be clearer.", "It is slightly louder than my old one."],
                        0: ["The price was low, I admit.", "The colour is exactly as pictured, at least."]}

CLOSINGS = {
    1: ["Highly recommended.", "I would buy it again without hesitation.", "Great value.",
        "Already ordered a second one as a gift.", "Very happy with it.", ""],
    0: ["Avoid.", "I want my money back.", "Not recommended.", "Save yourself the trouble.",
        "Back in the box it goes.", ""],
}


def review(label: int, rng: random.Random, held_out: bool = False) -> str:
    """One review; held_out draws products, aspects and concessions from banks the training reviews never see."""
    if held_out:
        aspects = [rng.choice(HELD_OUT_ASPECTS[label]),
                   *rng.sample(ASPECTS[label] + HELD_OUT_ASPECTS[label], k=rng.choice([0, 1]))]
    else:
        aspects = rng.sample(ASPECTS[label], k=rng.choice([1, 2]))
    opening = rng.choice(TURNS[label] if rng.random() < 0.33 else OPENINGS[label])
    if rng.random() < 0.25:
        aspects.append(rng.choice((HELD_OUT_CONCESSIONS if held_out else CONCESSIONS)[label]))
    product = rng.choice(HELD_OUT_PRODUCTS if held_out else PRODUCTS)
    parts = [opening.format(p=product), *dict.fromkeys(aspects), rng.choice(CLOSINGS[label])]
    return " ".join(part for part in parts if part)


def make_reviews(seed: int = SEED) -> list[dict]:
    """PER_LABEL unique reviews of each label, split per label so every split is balanced;
    validation and test from the held-out banks, and no text in two splits."""
    rng = random.Random(seed)
    rows, seen = [], set()
    for label in (0, 1):
        for name, share in SPLITS.items():
            texts: list[str] = []
            while len(texts) < round(share * PER_LABEL):
                text = review(label, rng, held_out=name != "train")
                if text not in seen:
                    seen.add(text)
                    texts.append(text)
            rows += [{"text": text, "label": label, "split": name} for text in texts]
    rng.shuffle(rows)
    return rows


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    rows = make_reviews()
    with OUT.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["text", "label", "split"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} reviews to {OUT}")


if __name__ == "__main__":
    main()
