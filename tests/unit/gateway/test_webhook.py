"""POST /payment/webhook/: raw bytes and Stripe-Signature to payments untouched, its answer back."""

from gateway.upstreams import Reply

BODY = b'{\n  "id": "evt_1",\n  "object": "event",  "data": {"name": "Caf\xc3\xa9 \\u00e9"}\n}'
SIGNATURE = (
    "t=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd,v0=6ffbb59b2300aa"
)


async def test_body_signature_and_content_type_reach_payments_byte_for_byte(client, upstreams):
    response = await client.post(
        "/payment/webhook/",
        content=BODY,
        headers={"Stripe-Signature": SIGNATURE, "Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200
    assert response.json() == {"received": True}
    assert upstreams.webhooks == [(BODY, SIGNATURE.encode(), b"application/json; charset=utf-8")]


async def test_payments_answer_is_passed_back_whatever_it_is(client, upstreams):
    for status, body in (
        (400, b'{"detail": "bad signature"}'),
        (413, b'{"detail": "too large"}'),
        (500, b"{}"),
    ):
        upstreams.webhook_reply = Reply(status, body, "application/json")
        response = await client.post(
            "/payment/webhook/", content=BODY, headers={"Stripe-Signature": SIGNATURE}
        )
        assert (response.status_code, response.content) == (status, body)


async def test_a_missing_signature_is_left_for_payments_to_refuse(client, upstreams):
    upstreams.webhook_reply = Reply(400, b'{"detail": "no signature"}', "application/json")
    response = await client.post("/payment/webhook/", content=BODY)
    assert response.status_code == 400
    assert upstreams.webhooks[0][1] is None
