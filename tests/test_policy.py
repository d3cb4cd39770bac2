"""Policy loading and validation: errors name the file, the key and the allowed values, never data."""

from pathlib import Path

import pytest

from pipeline.policy import Policy, PolicyError, build_actions, load_policy, parse_policy

CONFIGS = Path(__file__).parent.parent / "configs"


def test_default_yaml_is_the_built_in_default():
    assert load_policy(CONFIGS / "default.yaml").digest == load_policy(None).digest == Policy().digest


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_policies_are_valid(path, monkeypatch):
    monkeypatch.setenv("CNPII_KEY", "policy-test-key-" + "0123456789abcdef" * 3)
    policy = load_policy(path)
    _, actions = build_actions(policy, str(path))
    assert set(actions) >= {f"actions.{e}" for e in policy.entities}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"colums": {}}, "colums"),  # unknown top-level key
        ({"threshold": "high"}, "threshold"),
        ({"threshold": 1.5}, "threshold"),
        ({"entities": ["CN_PASSPORT"]}, "CN_PASSPORT"),
        ({"actions": {"CN_PASSPORT": {"action": "mask"}}}, "actions"),
        ({"columns": {"m": {"actions": {"CN_EMAIL": {"action": "mask"}}}}}, "columns.m.actions"),
        (
            {"actions": {"CN_PHONE": {"action": "maks"}}},
            "allowed: fake, generalize, keep, mask, redact, tokenize",
        ),
        ({"columns": {"memo": "drop"}}, "columns.memo"),
        ({"columns": {"id": {"entity": "CN_ID"}}}, "CN_ID"),
        ({"columns": {"id": {"entity": "CN_PHONE"}}}, "needs an action"),
        ({"columns": {"d": {"action": "generalize", "to": "week"}}}, "columns.d"),
        ({"columns": {"d": {"action": "mask"}}}, "columns.d"),
        ({"columns": {"d": {"keep": True, "action": "mask"}}}, "'keep' takes no other keys"),
        # a typo must not leave a column in clear
        ({"columns": {"name": {"acton": "redact"}}}, "columns.name: Value error, unknown keys ['acton']"),
        ({"columns": {"address": {"redact": True}}}, "unknown keys ['redact']"),
        ({"columns": {"born": {"Action": "generalize", "to": "year"}}}, "unknown keys ['Action', 'to']"),
    ],
)
def test_errors_name_the_key(document, expected):
    with pytest.raises(PolicyError) as info:
        parse_policy(document, "p.yaml")
    assert "p.yaml" in str(info.value) and expected in str(info.value)


def test_bad_action_parameter_is_refused_before_work(monkeypatch):
    with pytest.raises(PolicyError) as info:  # on load, before any action is built
        parse_policy({"actions": {"CN_PHONE": {"action": "mask", "no_such_param": 1}}}, "p.yaml")
    assert "actions.CN_PHONE" in str(info.value) and "no_such_param" in str(info.value)


def test_missing_key_is_refused_and_named(monkeypatch):
    monkeypatch.delenv("CNPII_KEY", raising=False)
    policy = parse_policy({"actions": {"CN_PHONE": {"action": "tokenize"}}}, "p.yaml")
    with pytest.raises(PolicyError) as info:
        build_actions(policy, "p.yaml")
    assert "CNPII_KEY" in str(info.value)


def test_weak_key_is_refused_without_showing_it(monkeypatch):
    monkeypatch.setenv("CNPII_KEY", "secret-but-short")
    policy = parse_policy({"actions": {"CN_PHONE": {"action": "tokenize"}}}, "p.yaml")
    with pytest.raises(PolicyError) as info:
        build_actions(policy, "p.yaml")
    assert "secret-but-short" not in str(info.value)


def test_mask_needs_no_key(monkeypatch):
    monkeypatch.delenv("CNPII_KEY", raising=False)
    keyring, actions = build_actions(Policy(), "default")
    assert keyring is None and actions["actions.CN_PHONE"].name == "mask"


def test_key_is_never_part_of_a_policy():
    with pytest.raises(PolicyError):
        parse_policy({"key": {"value": "0" * 64}}, "p.yaml")


def test_yaml_errors_name_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("actions:\n  CN_PHONE: {action: mask\n", encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert str(path) in str(info.value) and "line" in str(info.value)


def test_allowed_entities_and_verify_policy():
    policy = parse_policy(
        {
            "actions": {
                "CN_PHONE": {"action": "keep"},
                "CN_BANK_CARD": {"action": "tokenize", "format": "hmac"},
            },
            "columns": {
                "notes": {"actions": {"CN_PHONE": {"action": "mask"}}},
                "raw": "keep",
                "id": {"entity": "CN_RESIDENT_ID", "action": "fake"},
                "card": {
                    "actions": {
                        "CN_BANK_CARD": {"action": "tokenize", "format": "preserving", "keep_bin": True}
                    }
                },
            },
        }
    )
    assert policy.allowed_entities("mobile") == {"CN_PHONE"}
    assert policy.allowed_entities("notes") == set()
    assert policy.allowed_entities("raw") == {"CN_RESIDENT_ID", "CN_PHONE", "CN_BANK_CARD", "CN_ADDRESS",
                                              "CN_PERSON_NAME"}
    assert policy.allowed_entities("id") == {"CN_PHONE", "CN_RESIDENT_ID"}  # a fake ID looks real
    assert policy.allowed_entities("card") == {"CN_PHONE", "CN_BANK_CARD"}  # a real BIN + Luhn is a card
    assert set(policy.for_verify().columns) == {"raw"}


def test_hostile_policy_files_are_refused_quickly_and_briefly(tmp_path):
    """A YAML bomb, deep nesting and a huge file each end in a short PolicyError."""
    bomb = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    bomb += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    cases = {
        "bomb.yaml": "version: 1\ncolumns:\n  memo: {actions: {CN_PHONE: {action: mask, x: *a9}}}\n"
                     + "\n".join(bomb),
        "deep.yaml": "version: 1\ncolumns: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "huge.yaml": "version: 1\ncolumns:\n" + "".join(f"  c{i}: {{x: 1}}\n" for i in range(300_000)),
        "many.yaml": "version: 1\ncolumns:\n" + "".join(f"  c{i}: {{x: 1}}\n" for i in range(5_000)),
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(PolicyError) as info:
            load_policy(path)
        assert str(path) in str(info.value) and len(str(info.value)) < 10_000, name
    with pytest.raises(PolicyError, match="alias"):
        load_policy(tmp_path / "bomb.yaml")


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ({"actions": {"CN_PHONE": {"action": "generalize", "to": "bank"}}}, "actions.CN_PHONE: generalize"),
        ({"actions": {"CN_PHONE": {"action": "mask", "keep_first": 6}}}, "CN_PHONE: mask: keep_first=6"),
        ({"columns": {"m": {"actions": {"CN_RESIDENT_ID": {"action": "generalize", "to": "carrier"}}}}},
         "columns.m.actions.CN_RESIDENT_ID"),
        ({"columns": {"m": {"entity": "CN_BANK_CARD", "action": "generalize", "to": "gender"}}}, "columns.m"),
    ],
)
def test_an_action_that_does_not_fit_its_entity_is_refused_on_load(document, where):
    """These would fail mid-run with exit 3: the policy does not load."""
    with pytest.raises(PolicyError, match=where):
        parse_policy(document, "p.yaml")
