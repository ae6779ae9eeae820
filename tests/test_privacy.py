"""Encryption at rest, blind indexes and masking."""

import pytest

from earlywarn.config import Settings
from earlywarn.identity import mask_id_number, mask_phone
from earlywarn.privacy import Vault

ID = "330523198001010011"


def _vault(secret="one-secret") -> Vault:
    return Vault(Settings(secret_key=secret))


def test_encryption_round_trip_and_no_plain_text():
    vault = _vault()
    token = vault.encrypt(ID)
    assert ID not in token
    assert vault.decrypt(token) == ID
    assert vault.encrypt(ID) != token  # random IV: equal values do not give equal ciphertexts


def test_wrong_key_cannot_decrypt():
    token = _vault("key-a").encrypt(ID)
    with pytest.raises(ValueError, match="secret key"):
        _vault("key-b").decrypt(token)


def test_blind_index_is_stable_keyed_and_purpose_bound():
    a, b = _vault("key-a"), _vault("key-b")
    assert a.blind_index(ID) == a.blind_index(ID)
    assert a.blind_index(ID) != b.blind_index(ID)
    assert a.blind_index(ID) != a.blind_index(ID, "informant")
    assert ID not in a.blind_index(ID) and len(a.blind_index(ID)) == 64


def test_masks():
    assert mask_id_number(ID) == "330523********0011"
    assert mask_id_number("33052319800101001X") == "330523********001X"
    assert mask_id_number("12345") == "*****"
    assert mask_phone("13812345678") == "138****5678"


def test_secret_generated_once_into_data_dir(tmp_path):
    s1 = Settings(data_dir=tmp_path)
    s2 = Settings(data_dir=tmp_path)
    assert s1.resolved_secret() == s2.resolved_secret()
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
