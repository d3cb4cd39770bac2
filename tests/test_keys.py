"""Key material: where it is read from, what is refused, and that it never travels in a pickle or a repr."""

from __future__ import annotations

import multiprocessing
import pickle
import secrets
from concurrent.futures import ProcessPoolExecutor

import pytest

from pipeline.keys import MIN_KEY_BYTES, KeyMaterialError, Keyring, KeySource

KEY_ENV = "CNPII_TEST_KEYS_KEY"


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    value = secrets.token_urlsafe(48)
    monkeypatch.setenv(KEY_ENV, value)
    return value


def fingerprint_and_subkey_in_child(keyring: Keyring) -> tuple[str, bytes]:
    return keyring.fingerprint, keyring.subkey("tokenize/hmac/CN_PHONE")


def test_key_from_environment_and_file(key: str, tmp_path) -> None:
    from_env = Keyring.load(KeySource(env=KEY_ENV))
    key_file = tmp_path / "key"
    key_file.write_text(key + "\n")  # the trailing newline an editor adds is not part of the key
    from_file = Keyring.load(KeySource(file=str(key_file)))
    assert from_env.fingerprint == from_file.fingerprint
    assert from_env.subkey("fake/CN_PHONE") == from_file.subkey("fake/CN_PHONE")
    assert from_env.subkey("fake/CN_PHONE") != from_env.subkey("fake/CN_BANK_CARD")


def test_default_source_is_cnpii_key(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("CNPII_KEY", key)
    assert Keyring.load().fingerprint == Keyring.load(KeySource(env=KEY_ENV)).fingerprint


def test_short_keys_are_refused_without_showing_them(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    short = "s3cr3t-but-too-short"
    assert len(short) < MIN_KEY_BYTES
    monkeypatch.setenv(KEY_ENV, short)
    expected = f"environment variable {KEY_ENV}.*at least {MIN_KEY_BYTES}"
    with pytest.raises(KeyMaterialError, match=expected) as e:
        Keyring.load(KeySource(env=KEY_ENV))
    assert short not in str(e.value)
    key_file = tmp_path / "short"
    key_file.write_text(short)
    with pytest.raises(KeyMaterialError, match=str(key_file)) as e:
        Keyring.load(KeySource(file=str(key_file)))
    assert short not in str(e.value)


def test_missing_keys_name_their_source(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(KeyMaterialError, match=f"no key in environment variable {KEY_ENV}"):
        Keyring.load(KeySource(env=KEY_ENV))
    missing = tmp_path / "nowhere"
    with pytest.raises(KeyMaterialError, match=f"cannot read the key from file {missing}"):
        Keyring.load(KeySource(file=str(missing)))
    with pytest.raises(ValueError, match="either 'env' or 'file'"):
        KeySource(env=KEY_ENV, file=str(missing))


def test_pickle_holds_the_source_only_and_reloads_in_a_fresh_process(key: str) -> None:
    keyring = Keyring.load(KeySource(env=KEY_ENV))
    subkey = keyring.subkey("tokenize/hmac/CN_PHONE")
    dumped = pickle.dumps(keyring)
    assert key.encode() not in dumped and subkey not in dumped and KEY_ENV.encode() in dumped
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert pool.submit(fingerprint_and_subkey_in_child, keyring).result() == (keyring.fingerprint, subkey)


def test_repr_and_fingerprint(key: str) -> None:
    keyring = Keyring.load(KeySource(env=KEY_ENV))
    assert key not in repr(keyring) and keyring.fingerprint in repr(keyring)
    assert Keyring(key.encode(), KeySource()).fingerprint == keyring.fingerprint
    other = Keyring(secrets.token_bytes(32), KeySource())
    assert other.fingerprint != keyring.fingerprint
    assert len(keyring.fingerprint) == 16 and key not in keyring.fingerprint


def test_policy_cannot_hold_a_key_value() -> None:
    from pipeline.policy import PolicyError, parse_policy

    value = secrets.token_urlsafe(48)
    with pytest.raises(PolicyError) as e:
        parse_policy({"key": {"value": value}}, "policy.yaml")
    assert "policy.yaml" in str(e.value) and "key" in str(e.value) and value not in str(e.value)


def test_a_key_is_the_same_from_every_source_and_weak_keys_are_refused(monkeypatch, tmp_path, key):
    """`CNPII_KEY` with a trailing newline is the same key as the same key in a file; 32 x 'a', 32 spaces
    and a system file are refused as keys."""
    monkeypatch.setenv("CNPII_TEST_NEWLINE", key + "\n")
    (tmp_path / "key").write_text(key + "\n")
    fingerprints = {Keyring.load(KeySource(env=KEY_ENV)).fingerprint,
                    Keyring.load(KeySource(env="CNPII_TEST_NEWLINE")).fingerprint,
                    Keyring.load(KeySource(file=str(tmp_path / "key"))).fingerprint}
    assert len(fingerprints) == 1
    for weak, reason in (("a" * 32, "not random"), (" " * 40, "white space"), (" " + key, "white space")):
        monkeypatch.setenv(KEY_ENV, weak)
        with pytest.raises(KeyMaterialError, match=reason) as refused:
            Keyring.load(KeySource(env=KEY_ENV))
        assert weak.strip() not in str(refused.value) or not weak.strip()
    document = tmp_path / "services"
    document.write_text("".join(f"service-{i}\t{i}/tcp\n" for i in range(200)))
    with pytest.raises(KeyMaterialError, match="not a document"):
        Keyring.load(KeySource(file=str(document)))
