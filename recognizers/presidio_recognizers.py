"""Presidio recognizer classes for CN_RESIDENT_ID, CN_PHONE and CN_BANK_CARD.

They plug into any `presidio_analyzer.AnalyzerEngine`; `build_analyzer()` makes one that needs no spaCy
model (Presidio's no-op NLP engine) and loads nothing from the network. Each recognizer runs
`recognizers.detect`, so Presidio users get the same spans, scores and cross-entity resolution as the
Parquet pipeline. Kept apart from the format modules because importing Presidio costs ~2 s per process,
which the pipeline's workers should not pay.

>>> analyzer = build_analyzer()
>>> [(r.entity_type, r.start, r.end) for r in analyzer.analyze("手机13800138000", language="zh")]
[('CN_PHONE', 2, 13)]
"""

from __future__ import annotations

import functools

from presidio_analyzer import (
    AnalysisExplanation,
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts, NoOpNlpEngine

from recognizers import address, bank_card, person_name, phone, resident_id
from recognizers.detector import detect
from recognizers.findings import Finding


@functools.lru_cache(maxsize=16)
def _findings(text: str) -> tuple[Finding, ...]:
    """Every entity's findings in `text`. Presidio asks each recognizer in turn about the same text, and
    the engine resolves all entities against each other anyway: it runs once for the three."""
    return tuple(detect(text))


class ChineseEntityRecognizer(EntityRecognizer):
    """Base: reports one entity from `detect`, with our own Chinese-aware context scoring.

    Results are marked as already context-enhanced so that Presidio's lemma enhancer (which does nothing
    for Chinese) leaves the scores alone.
    """

    ENTITY = ""
    CONTEXT: tuple[str, ...] = ()

    def __init__(self, supported_language: str = "zh") -> None:
        super().__init__(
            supported_entities=[self.ENTITY],
            name=type(self).__name__,
            supported_language=supported_language,
            context=list(self.CONTEXT),
        )

    def load(self) -> None:
        """Nothing to load: the tables are read lazily by the format modules."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Findings of this recognizer's entity in `text`."""
        if self.ENTITY not in entities:
            return []
        return [
            RecognizerResult(
                entity_type=f.entity,
                start=f.start,
                end=f.end,
                score=f.score,
                analysis_explanation=AnalysisExplanation(
                    recognizer=self.name, original_score=f.score, textual_explanation=", ".join(f.evidence)
                ),
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
                },
            )
            for f in _findings(text)
            if f.entity == self.ENTITY
        ]


class CnResidentIdRecognizer(ChineseEntityRecognizer):
    """Resident ID numbers, legacy 15-digit IDs, residence permits and foreign permanent resident IDs."""

    ENTITY = resident_id.ENTITY
    CONTEXT = resident_id.CONTEXT


class CnPhoneRecognizer(ChineseEntityRecognizer):
    """Mobile, IoT and landline numbers."""

    ENTITY = phone.ENTITY
    CONTEXT = phone.CONTEXT


class CnBankCardRecognizer(ChineseEntityRecognizer):
    """Bank card numbers (UnionPay and other networks issued in China)."""

    ENTITY = bank_card.ENTITY
    CONTEXT = bank_card.CONTEXT


class CnAddressRecognizer(ChineseEntityRecognizer):
    """Addresses: divisions chained with roads, numbers, estates, buildings and rooms."""

    ENTITY = address.ENTITY
    CONTEXT = address.CONTEXT


class CnPersonNameRecognizer(ChineseEntityRecognizer):
    """Personal names: where a label, a title or the column says one stands, or whose characters make one
    far likelier than ordinary words."""

    ENTITY = person_name.ENTITY
    CONTEXT = person_name.CONTEXT


RECOGNIZERS = (CnResidentIdRecognizer, CnPhoneRecognizer, CnBankCardRecognizer, CnAddressRecognizer,
               CnPersonNameRecognizer)


def build_analyzer(language: str = "zh") -> AnalyzerEngine:
    """An AnalyzerEngine with only the Chinese recognizers and no NLP model (nothing is downloaded).

    The registry is built explicitly: Presidio's default recognizers try to download a public suffix
    list and mislabel Chinese mobiles as US numbers.
    """
    registry = RecognizerRegistry(supported_languages=[language])
    for recognizer in RECOGNIZERS:
        registry.add_recognizer(recognizer(supported_language=language))
    nlp_engine = NoOpNlpEngine(models=[{"lang_code": language, "model_name": "no_op"}])
    nlp_engine.load()
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[language])
