"""Form decoding (checked against the SDK's own encoder) and settings from the environment."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stripe._encode import _api_encode

from stripe_sim.errors import StripeError
from stripe_sim.forms import decode
from stripe_sim.settings import LOCAL_WEBHOOK_SECRET, Settings

keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), min_size=1, max_size=12)
nested = st.recursive(
    values,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(keys, inner, min_size=1, max_size=3),
    ),
    max_leaves=8,
)


@given(st.dictionaries(keys, nested, min_size=1, max_size=4))
def test_decode_inverts_the_sdk_encoder(params: dict[str, Any]) -> None:
    assert decode(_api_encode(params)) == params


def test_decode_reads_stripe_style_keys() -> None:
    pairs = [
        ("line_items[0][price_data][unit_amount]", "100"),
        ("line_items[1][quantity]", "2"),
        ("line_items[0][quantity]", "1"),
        ("metadata[order_id]", "o-1"),
        ("expand[]", "line_items"),
        ("expand[]", "payment_intent"),
        ("weird]key", "x"),
    ]

    assert decode(pairs) == {
        "line_items": [{"price_data": {"unit_amount": "100"}, "quantity": "1"}, {"quantity": "2"}],
        "metadata": {"order_id": "o-1"},
        "expand": ["line_items", "payment_intent"],
        "weird]key": "x",
    }


def test_decode_rejects_a_key_used_as_value_and_hash() -> None:
    with pytest.raises(StripeError) as err:
        decode([("metadata", "x"), ("metadata[a]", "y")])

    assert err.value.status == 400


def test_settings_defaults_follow_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "STRIPE_SIM_PORT",
        "STRIPE_WEBHOOK_SECRET",
        "PUBLIC_BASE_URL",
        "GATEWAY_PORT",
        "STRIPE_SIM_WEBHOOK_URL",
        "STRIPE_SIM_PUBLIC_URL",
        "STRIPE_SIM_CHAOS",
    ):
        monkeypatch.delenv(name, raising=False)

    settings = Settings(_env_file=None)

    assert settings.stripe_sim_port == 12111
    assert settings.signing_secret == LOCAL_WEBHOOK_SECRET
    assert settings.webhook_url == "http://127.0.0.1:8000/payment/webhook/"
    assert settings.public_url == "http://127.0.0.1:12111"
    assert settings.stripe_sim_chaos is False


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "9000")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", " whsec_new , whsec_old")
    monkeypatch.setenv("STRIPE_SIM_PUBLIC_URL", "http://sim.local:1/")
    monkeypatch.setenv("STRIPE_SIM_CHAOS", "true")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("STRIPE_SIM_WEBHOOK_URL", raising=False)

    settings = Settings(_env_file=None)
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://shop.test/")
    with_base = Settings(_env_file=None)
    monkeypatch.setenv("STRIPE_SIM_WEBHOOK_URL", "off")
    off = Settings(_env_file=None)

    assert settings.webhook_url == "http://127.0.0.1:9000/payment/webhook/"
    assert settings.signing_secret == "whsec_new"
    assert settings.public_url == "http://sim.local:1"
    assert settings.stripe_sim_chaos is True
    assert with_base.webhook_url == "http://shop.test/payment/webhook/"
    assert off.webhook_url is None
