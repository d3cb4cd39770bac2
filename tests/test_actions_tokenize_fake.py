"""tokenize and fake: determinism everywhere, distinct tokens, shapes, no real numbers, no re-detection,
reversible round trips, the detokenize command, and keys that never travel with an action."""

from __future__ import annotations

import io
import multiprocessing
import pickle
import random
import re
import secrets
from concurrent.futures import ProcessPoolExecutor

import pytest
from faker import Faker

from pipeline import detokenize as detokenize_cli
from pipeline.actions import fake as fake_module
from pipeline.actions import tokenize as tokenize_module
from pipeline.actions.base import ActionConfigError, Target, build_action
from pipeline.actions.tokenize import TokenError, detokenize, permute
from pipeline.keys import Keyring, KeySource
from recognizers import bank_card, detect, phone, resident_id, segments
from recognizers.divisions import PROVINCES


def _card(body: str) -> str:
    return body + bank_card.calc_check_digit(body)

KEY_ENV = "CNPII_TEST_TOKEN_KEY"
KEY = secrets.token_urlsafe(48)  # a fresh key per test session; spawned workers inherit the environment


@pytest.fixture
def keyring(monkeypatch: pytest.MonkeyPatch) -> Keyring:
    monkeypatch.setenv(KEY_ENV, KEY)
    return Keyring.load(KeySource(env=KEY_ENV))


def target_of(text: str) -> Target:
    """The Target the transform would build for `text` as a whole value."""
    [found] = detect(text)
    return Target(found.entity, found.value, found.subtype, text[found.start : found.end], True)


def ids(count: int, seed: int = 7) -> list[str]:
    faker = Faker("zh_CN")
    faker.seed_instance(seed)
    return list(dict.fromkeys(faker.ssn() for _ in range(count)))


def with_check(body: str) -> str:
    return body + resident_id.calc_check_digit(body)


def mobiles(count: int, seed: int = 7) -> list[str]:
    faker = Faker("zh_CN")
    faker.seed_instance(seed)
    return list(dict.fromkeys(faker.phone_number() for _ in range(count)))


def cards(count: int, length: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    rest = length - 7  # after the ICBC BIN 622202, before the check digit
    return list(dict.fromkeys(_card("622202" + f"{rng.randrange(10**rest):0{rest}d}")
                              for _ in range(count)))


def landlines(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    areas = sorted(segments.area_codes())
    return list(dict.fromkeys(
        (area := rng.choice(areas)) + str(rng.randint(2, 9)) + f"{rng.randrange(10**6):06d}" + (
            str(rng.randint(0, 9)) if len(area) == 3 else "")
        for _ in range(count)))


def targets(entity: str, values: list[str], subtype: str) -> list[Target]:
    return [Target(entity, v, subtype, v, True) for v in values]


SAMPLE = (
    targets("CN_RESIDENT_ID", [v for v in ids(320) if resident_id.subtype(v) == "resident"], "resident")
    + targets("CN_RESIDENT_ID", [with_check("9" + v[:2] + v[3:17]) for v in ids(100, 8)],
              "foreign_permanent_resident")
    + targets("CN_RESIDENT_ID", [with_check("810000" + v[6:17]) for v in ids(50, 9)],
              "hk_macau_taiwan_residence_permit")
    + targets("CN_PHONE", mobiles(250), "mobile")
    + targets("CN_PHONE", ["14401234567" + f"{i:02d}" for i in range(50)], "iot_13_digit")
    + targets("CN_PHONE", landlines(150), "landline")
    + targets("CN_BANK_CARD", cards(40, 16) + cards(20, 19) + cards(20, 15) + cards(20, 17), "UnionPay")
)


def replace_all(action, sample: list[Target]) -> list[str | None]:
    return [action.replace(t) for t in sample]


def tokens_in_child(actions: list, sample: list[Target]) -> list[list[str | None]]:
    return [replace_all(action, sample) for action in actions]


ALL_ACTIONS = (
    ("tokenize", {}),
    ("tokenize", {"format": "preserving"}),
    ("tokenize", {"format": "preserving", "keep_bin": True}),
    ("tokenize", {"format": "reversible"}),
    ("fake", {}),
)


COLUMNS = {"CN_RESIDENT_ID": "sfzh", "CN_PHONE": "sjhm", "CN_BANK_CARD": "yhkh"}


def test_sample_is_valid_input() -> None:
    for t in SAMPLE:
        found = detect(t.value, column=COLUMNS[t.entity])
        assert [(f.value, f.subtype) for f in found] == [(t.value, t.subtype)], t.subtype


def test_same_values_across_processes_and_without_key_material_in_pickles(keyring: Keyring) -> None:
    actions = [build_action(name, params, keyring) for name, params in ALL_ACTIONS]
    here = [replace_all(action, SAMPLE) for action in actions]
    dumped = pickle.dumps(actions)
    secrets_ = [KEY.encode()] + [keyring.subkey(p) for p in (
        "tokenize/hmac/CN_PHONE", "tokenize/preserving/CN_PHONE", "fake/CN_PHONE")]
    secrets_.append(keyring.subkey("tokenize/reversible", 64))
    assert not any(s in dumped for s in secrets_)
    assert len(dumped) < 2000
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        there = pool.submit(tokens_in_child, pickle.loads(dumped), SAMPLE).result()
    assert there == here


def test_equal_entities_written_differently_get_one_token(keyring: Keyring) -> None:
    for name, params in ALL_ACTIONS:
        action = build_action(name, params, keyring)
        for written in (["138-1234-5678", "+86 13812345678", "１３８１２３４５６７８", "(+86)138 1234 5678"],
                        ["11010519491231002X", "110105 19491231 002x"],
                        ["6222 0200 0000 0000 000", "6222020000000000000"]):
            assert len({action.replace(target_of(w)) for w in written}) == 1, (name, params)


def test_hmac_tokens_are_typed_and_distinct(keyring: Keyring) -> None:
    action = build_action("tokenize", {}, keyring)
    values = [f"1{n:010d}" for n in range(0, 10**10, 10**5)]
    tokens = {action.replace(Target("CN_PHONE", v, "mobile")) for v in values}
    assert len(tokens) == len(values) == 10**5
    assert all(re.fullmatch(r"CNPH_[a-z2-7]{24}", t) for t in tokens)
    assert action.replace(Target("CN_RESIDENT_ID", "11010519491231002X")).startswith("CNID_")
    assert action.replace(Target("CN_BANK_CARD", "6222020000000000000")).startswith("CNBC_")
    other = Keyring(secrets.token_bytes(32), KeySource(env="UNUSED"))
    assert build_action("tokenize", {}, other).replace(Target("CN_PHONE", values[1], "mobile")) not in tokens


def test_subkeys_are_per_entity_and_format(keyring: Keyring) -> None:
    same_digits = "13812345678901"
    tokens = {build_action("tokenize", {}, keyring).replace(Target(e, same_digits)).split("_")[1]
              for e in ("CN_PHONE", "CN_BANK_CARD", "CN_RESIDENT_ID")}
    assert len(tokens) == 3


def test_permute_is_a_permutation() -> None:
    mac = tokenize_module._mac(Keyring(secrets.token_bytes(32), KeySource(env="UNUSED")), "test")
    for n in (100, 731, 1000):
        assert sorted(permute(mac, b"t", x, n) for x in range(n)) == list(range(n))
    tweaked = [[permute(mac, tweak, x, 1000) for x in range(20)] for tweak in (b"a", b"b")]
    assert tweaked[0] != tweaked[1]


def test_preserving_shapes_and_no_real_numbers(keyring: Keyring) -> None:
    action = build_action("tokenize", {"format": "preserving"}, keyring)
    for t in SAMPLE:
        out = action.replace(t)
        assert len(out) == len(t.value) and out != t.value
        if t.entity == "CN_RESIDENT_ID":
            assert resident_id.calc_check_digit(out[:17]) == out[17]
            province = out[1:3] if t.subtype == "foreign_permanent_resident" else out[:2]
            assert province not in PROVINCES and not resident_id.is_valid(out)
            assert (out[0] == "9") == (t.subtype == "foreign_permanent_resident")
        elif t.subtype == "landline":
            area = 3 if t.value[1] in "12" else 4
            assert out[:area] == t.value[:area] and out[area] in "01"
            assert not phone.is_valid(out)
        elif t.entity == "CN_PHONE":
            assert out[:2] in ("10", "11", "12") and out.isdigit() and not phone.is_valid(out)
        else:
            assert bank_card.luhn_valid(out) and out[0] == "0" and bank_card.known_bin(out) is None


def test_preserving_is_injective_where_the_space_allows(keyring: Keyring) -> None:
    action = build_action("tokenize", {"format": "preserving"}, keyring)
    for entity, values in (("CN_RESIDENT_ID", ids(5000, 11)), ("CN_BANK_CARD", cards(5000, 16, 11)),
                           ("CN_PHONE", ["1401234" + f"{i:06d}" for i in range(5000)])):
        assert len({action.replace(Target(entity, v)) for v in values}) == len(values)


def test_preserving_cards_can_keep_the_bin(keyring: Keyring) -> None:
    action = build_action("tokenize", {"format": "preserving", "keep_bin": True}, keyring)
    values = cards(3000, 19, 12)
    outs = [action.replace(Target("CN_BANK_CARD", v)) for v in values]
    assert len(set(outs)) == len(values)
    for value, out in zip(values, outs, strict=True):
        assert out[:6] == value[:6] and len(out) == 19 and bank_card.luhn_valid(out) and out != value
    assert all(detect(out) for out in outs[:100])  # a real BIN + Luhn is a card: verify must allow it


@pytest.mark.parametrize("params", [{}, {"format": "preserving"}, {"format": "reversible"}])
def test_tokens_are_not_detected(keyring: Keyring, params: dict) -> None:
    action = build_action("tokenize", params, keyring)
    outs = [action.replace(t) for t in SAMPLE]
    assert len(outs) >= 1000
    assert [o for o in outs if detect(o)] == []
    assert [o for o in outs if detect(f"客户手机号{o}，身份证{o}")] == []
    assert not build_action("tokenize", params, keyring).output_may_hold_entity(params)


def test_output_may_hold_entity() -> None:
    tokenize, fake = tokenize_module.Tokenize, fake_module.Fake
    assert tokenize.output_may_hold_entity({"format": "preserving", "keep_bin": True})
    assert not tokenize.output_may_hold_entity({"format": "preserving"})
    assert fake.output_may_hold_entity({})
    with pytest.raises(ActionConfigError, match="keep_bin"):
        build_action("tokenize", {"format": "hmac", "keep_bin": True}, None)
    with pytest.raises(ActionConfigError, match="needs a key"):
        build_action("tokenize", {}, None)


def test_declared_values_fall_back_to_hmac(keyring: Keyring) -> None:
    declared = Target("CN_PHONE", "138-1234-567#", "declared", "138-1234-567 #", True)
    hmac_token = build_action("tokenize", {}, keyring).replace(declared)
    assert build_action("tokenize", {"format": "preserving"}, keyring).replace(declared) == hmac_token
    permit = Target("CN_RESIDENT_ID", "H12345678", "hk_macau_permit")
    assert build_action("tokenize", {"format": "preserving"}, keyring).replace(permit).startswith("CNID_")
    reversible = build_action("tokenize", {"format": "reversible"}, keyring).replace(declared)
    assert detokenize(reversible, keyring) == "138-1234-567#"


def test_reversible_round_trip_and_tampering(keyring: Keyring) -> None:
    action = build_action("tokenize", {"format": "reversible"}, keyring)
    for t in SAMPLE[::10]:
        token = action.replace(t)
        assert re.fullmatch(r"CNRV_(PH|ID|BC)_[a-z2-7]+", token)
        assert detokenize(token, keyring) == t.value
    token = action.replace(Target("CN_PHONE", "13812345678", "mobile"))
    body = token.split("_")[2]
    flipped = token[:-len(body)] + ("b" if body[0] == "a" else "a") + body[1:]
    other = Keyring(secrets.token_bytes(32), KeySource(env="UNUSED"))
    for bad in (flipped, token.replace("CNRV_PH_", "CNRV_ID_"), "CNRV_PH_", "CNPH_abc", "13812345678"):
        with pytest.raises(TokenError) as raised:
            detokenize(bad, keyring)
        assert "138" not in str(raised.value) and body not in str(raised.value)
    with pytest.raises(TokenError, match="authentication"):
        detokenize(token, other)


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, argv: list[str], stdin: str):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = detokenize_cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_detokenize_command(keyring: Keyring, monkeypatch: pytest.MonkeyPatch, capsys, tmp_path) -> None:
    action = build_action("tokenize", {"format": "reversible"}, keyring)
    values = ["13812345678", "11010519491231002X"]
    tokens = [action.replace(target_of(v)) for v in values]
    code, out, err = run_cli(monkeypatch, capsys, ["--key-env", KEY_ENV], "\n".join(tokens) + "\n\n")
    assert (code, out) == (0, "13812345678\n11010519491231002X\n\n")
    assert f"re-identified 2 tokens with key fingerprint {keyring.fingerprint}" in err

    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    middle = len(tokens[1]) // 2  # the last base32 character may carry only padding bits
    tampered = tokens[1][:middle] + ("a" if tokens[1][middle] != "a" else "b") + tokens[1][middle + 1 :]
    code, out, err = run_cli(monkeypatch, capsys, ["--key-file", str(key_file)], f"{tokens[0]}\n{tampered}\n")
    assert (code, out) == (1, "13812345678\n\n")
    assert "line 2" in err and tampered not in err and "11010519491231002X" not in err

    monkeypatch.delenv(KEY_ENV)
    code, out, err = run_cli(monkeypatch, capsys, ["--key-env", KEY_ENV], tokens[0])
    assert code == 2 and out == "" and KEY_ENV in err
    assert run_cli(monkeypatch, capsys, ["--key-env", "A", "--key-file", "b"], "")[0] == 2


def test_fakes_are_deterministic_valid_and_keep_the_subtype(keyring: Keyring) -> None:
    action = build_action("fake", {}, keyring)
    outs = [action.replace(t) for t in SAMPLE]
    assert outs == [action.replace(t) for t in SAMPLE]
    assert len(set(outs)) > 0.99 * len(outs)
    for t, out in zip(SAMPLE, outs, strict=True):
        assert out != t.value
        if t.entity == "CN_RESIDENT_ID":
            assert resident_id.is_valid(out) and resident_id.subtype(out) == t.subtype
        elif t.entity == "CN_PHONE":
            assert phone.kind(out) == t.subtype
        else:
            assert bank_card.is_valid(out) and len(out) == len(t.value)
    legacy = action.replace(Target("CN_RESIDENT_ID", resident_id.upgrade("110105491231002"), "legacy_15"))
    assert len(legacy) == 15 and resident_id.is_valid(legacy)
    declared = action.replace(Target("CN_PHONE", "not a phone", "declared"))
    assert phone.kind(declared) == "mobile"


def test_fakes_depend_on_the_key(keyring: Keyring) -> None:
    other = Keyring(secrets.token_bytes(32), KeySource(env="UNUSED"))
    sample = SAMPLE[::5]
    mine = replace_all(build_action("fake", {}, keyring), sample)
    theirs = replace_all(build_action("fake", {}, other), sample)
    assert sum(a == b for a, b in zip(mine, theirs, strict=True)) < len(sample) / 100
