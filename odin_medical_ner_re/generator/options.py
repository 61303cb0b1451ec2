"""How rich a note is: the options a generator is made with, and the presets the configs use.

Kept apart from the generator so that the builder and the CLI can name and check the
options without reading the template file or the knowledge base.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserInputError


@dataclass(frozen=True)
class NoteOptions:
    """How rich a note is. ``simple`` suits the 1k/10k configs, ``complex`` the complex one.

    Rates are probabilities per note: ``itemized_rate`` (a headed note writes its list-like
    sections one item per line), ``unpunctuated_item_rate`` (those items without a final
    period) and ``combined_plan_rate`` (assessment, plan and discharge under one "A/P").
    """

    min_facts: int = 2
    max_facts: int = 4
    max_list: int = 3
    comorbidities: tuple[int, int] = (0, 1)
    section_header_rate: float = 0.8
    full_sections: bool = False
    negation_rate: float = 0.4
    distractor_rate: float = 0.5
    abbreviation_rate: float = 0.2
    cross_sentence_rate: float = 0.0
    followup_rate: float = 0.15
    vitals_rate: float = 0.15
    itemized_rate: float = 0.9
    unpunctuated_item_rate: float = 0.8
    combined_plan_rate: float = 0.7

    def __post_init__(self) -> None:
        if not (1 <= self.min_facts <= self.max_facts):
            raise UserInputError(f"need 1 <= min_facts <= max_facts, got {self.min_facts}, {self.max_facts}")
        if self.max_list < 1:
            raise UserInputError("max_list must be at least 1")
        low, high = self.comorbidities
        if not 0 <= low <= high:
            raise UserInputError(
                f"comorbidities must be (low, high) with 0 <= low <= high, got {self.comorbidities}"
            )
        for name in (
            "section_header_rate",
            "negation_rate",
            "distractor_rate",
            "abbreviation_rate",
            "cross_sentence_rate",
            "followup_rate",
            "vitals_rate",
            "itemized_rate",
            "unpunctuated_item_rate",
            "combined_plan_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise UserInputError(f"{name} must be in [0, 1], got {value}")


COMPLEXITY_PRESETS: dict[str, NoteOptions] = {
    "simple": NoteOptions(),
    "complex": NoteOptions(
        min_facts=4,
        max_facts=7,
        comorbidities=(1, 2),
        section_header_rate=1.0,
        full_sections=True,
        negation_rate=0.8,
        distractor_rate=0.9,
        abbreviation_rate=0.3,
        cross_sentence_rate=0.35,
        followup_rate=0.5,
        vitals_rate=0.8,
        itemized_rate=0.7,
        unpunctuated_item_rate=0.6,
        combined_plan_rate=0.3,
    ),
}
