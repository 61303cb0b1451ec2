"""Concepts as the generator draws them: surface forms under the filter, weights, constraints.

A :class:`Term` is built once per concept when a generator is made; drawing a surface
form is then one random number and a bisect, whatever the abbreviation rate.
"""

from __future__ import annotations

import itertools

from ..knowledge import Concept

ADULT = (18, 92)  # the ages a patient may have; sex- or age-specific concepts narrow it


class Term:
    """A concept as the generator uses it: its surface forms under the filter, ready to draw.

    ``forms[bisect(cumulative, u)]`` draws a surface form with the configured abbreviation
    rate from one random number; ``capitals`` holds the sentence-initial forms. Terms hash
    by identity, which keeps the per-note ``used`` set cheap.
    """

    __slots__ = (
        "name",
        "type",
        "forms",
        "capitals",
        "cumulative",
        "dose",
        "sex",
        "ages",
        "fetal",
        "exam",
        "unstable",
        "vital_sign",
    )

    def __init__(
        self, concept: Concept, plain: list[str], abbreviations: list[str], abbreviation_rate: float
    ):
        self.name = concept.name
        self.type = concept.type
        self.dose = f" {concept.dose}" if concept.dose else ""
        weights = _form_weights(concept.name, plain, abbreviations, abbreviation_rate)
        self.forms = tuple(form for form, _ in weights)
        self.capitals = tuple(capitalize(form) for form in self.forms)
        total = sum(weight for _, weight in weights)
        self.cumulative = tuple(itertools.accumulate(weight / total for _, weight in weights[:-1]))
        self.sex: str | None = None
        self.ages = ADULT
        self.fetal = False
        self.exam = False
        self.unstable = False
        self.vital_sign = ""


def _form_weights(
    name: str, plain: list[str], abbreviations: list[str], rate: float
) -> list[tuple[str, float]]:
    """Abbreviations share ``rate``; the canonical name gets an extra half of the plain share."""
    plain_share = 1.0 - rate if abbreviations and plain else (1.0 if plain else 0.0)
    weights: list[tuple[str, float]] = []
    if plain:
        boost = 0.5 if plain[0] == name and len(plain) > 1 else 0.0
        for i, form in enumerate(plain):
            weights.append((form, plain_share * ((1 - boost) / len(plain) + (boost if i == 0 else 0.0))))
    for form in abbreviations:
        weights.append((form, (1.0 - plain_share) / len(abbreviations)))
    return weights


def capitalize(form: str) -> str:
    """Capitalize a sentence-initial form, but leave "eGFR" or "pH" as written."""
    if form[:1].islower() and not (len(form) > 1 and form[1].isupper()):
        return form[0].upper() + form[1:]
    return form
