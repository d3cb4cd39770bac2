"""fake: replace an entity by a realistic fake of the same kind, the same fake for the same value everywhere.

Faker's zh_CN provider draws the fake, seeded with a keyed HMAC of (entity, normalized value): the same
person gets the same fake ID, phone or card in every column, file, partition, run and worker, and without
the key nobody can tell which value a fake stands for. Fakes keep the shape of the subtype: an ID with a
valid MOD 11-2 check character (15 digits for a legacy number, 81/82/83 or 9 prefixes kept for permits
and foreign residents), a mobile, a landline with the same area code, an IoT number, a Luhn-valid
UnionPay card of the same length, a name (in pinyin for a pinyin name), an address. A fake looks real
and may even equal somebody's real number, so verify cannot tell it from one (`output_may_hold_entity`
is True) and the report says so.

One Faker instance per process, built on first use (importing Faker and building one take a tenth of
a second, so a run without `fake` pays neither); seeding and drawing happen under a lock, because Dask
may run partitions of one process in several threads.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipeline.actions.base import Action, ActionConfigError, Params, Target, register
from pipeline.actions.tokenize import keyed_digest
from recognizers import address, bank_card, person_name, phone, resident_id

if TYPE_CHECKING:
    from faker import Faker

CARD_LENGTHS = range(15, 20)
DEFAULT_CARD_LENGTH = 16

_LOCK = threading.Lock()


@functools.cache
def _faker() -> Faker:
    from faker import Faker

    return Faker("zh_CN")


def _fake_id(faker: Faker, target: Target) -> str:
    if target.subtype == "hk_macau_permit":
        return target.value[0] + faker.numerify("#" * (len(target.value) - 1))
    if target.subtype == "legacy_15":  # born in the 1900s, written without century and check character
        number = faker.ssn(min_age=30, max_age=90)
        return number[:6] + number[8:17]
    number = faker.ssn()
    while number[:2] in ("81", "82", "83"):  # Faker's area list includes HK/Macau/Taiwan: draw a mainland one
        number = faker.ssn()
    if target.subtype == "hk_macau_taiwan_residence_permit":
        body = target.value[:2] + "0000" + number[6:17]
    elif target.subtype == "foreign_permanent_resident":  # 9, the issuing province, then the ID layout
        body = "9" + number[:2] + number[3:17]
    else:
        return number
    return body + resident_id.calc_check_digit(body)


def _fake_phone(faker: Faker, target: Target) -> str:
    if target.subtype == "landline":
        area = target.value[:3] if target.value[1:2] in ("1", "2") else target.value[:4]
        local_length = len(target.value) - len(area)
        return f"{area}-{faker.random_int(2, 9)}{faker.numerify('#' * (local_length - 1))}"
    if target.subtype == "iot_13_digit":
        prefix = faker.random_element(phone.IOT_PREFIXES)
        return prefix + faker.numerify("#" * (13 - len(prefix)))
    return faker.phone_number()


def _fake_card(faker: Faker, target: Target) -> str:
    value = target.value
    length = len(value) if value.isdigit() and len(value) in CARD_LENGTHS else DEFAULT_CARD_LENGTH
    body = "62" + faker.numerify("#" * (length - 3))
    return body + bank_card.calc_check_digit(body)


def _fake_name(faker: Faker, target: Target) -> str:
    if target.subtype == "pinyin":
        return faker.romanized_name().upper()
    return faker.name()


_FAKERS = {
    resident_id.ENTITY: _fake_id, phone.ENTITY: _fake_phone, bank_card.ENTITY: _fake_card,
    person_name.ENTITY: _fake_name, address.ENTITY: lambda faker, target: faker.address(),
}


class FakeParams(Params):
    """fake takes no parameters; it fits the entities it has a faker for."""

    def check_entity(self, entity: str) -> None:
        """Refuse an entity without a faker (ActionConfigError naming it) when the policy loads."""
        if entity not in _FAKERS:
            raise ActionConfigError(f"fake: no faker for {entity}; it fakes {', '.join(_FAKERS)}")


@register
class Fake(Action):
    """Replace the entity by a realistic fake, chosen by the key and the value."""

    name = "fake"
    needs_key = True
    Params = FakeParams

    def replace(self, target: Target) -> str:
        """A fake of the target's entity and subtype; equal values get equal fakes."""
        digest = keyed_digest(self.keyring, f"fake/{target.entity}", target.value)
        faker = _faker()
        with _LOCK:
            faker.seed_instance(int.from_bytes(digest[:8], "big"))
            return _FAKERS[target.entity](faker, target)

    @classmethod
    def output_may_hold_entity(cls, params: Mapping[str, Any]) -> bool:
        """Fakes look real: verify finds them and cannot tell them from real values."""
        return True
