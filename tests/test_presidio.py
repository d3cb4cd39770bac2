"""The recognizers plugged into Presidio: no model download, same spans as `detect`."""

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from recognizers import detect
from recognizers.presidio_recognizers import RECOGNIZERS, build_analyzer

TEXT = "客户王芳来电，手机151-0176-6315，身份证11010519491231002X，卡号6222020000000000000"


def test_analyzer_finds_what_detect_finds():
    results = build_analyzer().analyze(TEXT, language="zh")
    assert sorted((r.entity_type, r.start, r.end, r.score) for r in results) == sorted(
        (f.entity, f.start, f.end, f.score) for f in detect(TEXT)
    )


def test_recognizers_plug_into_a_users_own_engine_and_anonymizer():
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine

    registry = RecognizerRegistry(supported_languages=["zh"])
    for cls in RECOGNIZERS:
        registry.add_recognizer(cls())
    engine = NoOpNlpEngine(models=[{"lang_code": "zh", "model_name": "no_op"}])
    engine.load()
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["zh"])
    results = analyzer.analyze(TEXT, language="zh", entities=["CN_PHONE"])
    anonymized = AnonymizerEngine().anonymize(
        TEXT, results, {"CN_PHONE": OperatorConfig("replace", {"new_value": "<PHONE>"})}
    )
    assert anonymized.text == TEXT.replace("151-0176-6315", "<PHONE>")
