"""The whole API flow through a client generated from the served document.

`run.sh` generates `kros_client` with openapi-python-client from `/v1/openapi.json`, then runs
this against the same server: search, buy, get, update, release, delete, the endpoints, and the
error shape of a 409 and a 400. Any drift between the document and the wire (an enum spelled
otherwise, a field missing, a response of another shape) makes a call here fail to parse.

Webhooks too: a receiver on loopback subscribes first, then every event of the flow must reach it
and verify with the Python `standardwebhooks` library (the specification's own, independent of
the server's Rust one), and the events and attempts read back through the generated client.

Usage: client_flow.py BASE_URL API_KEY CLIENT_DIR
"""

import http.server
import sys
import threading
import time
import uuid

from standardwebhooks.webhooks import Webhook

base_url, api_key, client_dir = sys.argv[1:4]
sys.path.insert(0, client_dir)

from kros_client import AuthenticatedClient  # noqa: E402
from kros_client.api.endpoints import create_endpoint, list_endpoints  # noqa: E402
from kros_client.api.events import get_event, list_events  # noqa: E402
from kros_client.api.webhooks import create_webhook_endpoint, list_webhook_deliveries  # noqa: E402
from kros_client.api.phone_numbers import (  # noqa: E402
    delete_phone_number,
    get_phone_number,
    list_phone_numbers,
    purchase_phone_number,
    update_phone_number,
)
from kros_client.models import (  # noqa: E402
    CountryCode,
    CreateEndpointBody,
    CreateWebhookEndpointBody,
    DeleteAction,
    Endpoint,
    ErrorBody,
    Event,
    EventType,
    ListAction,
    NumberStatus,
    NumberType,
    PageDeliveryAttempt,
    PageEndpoint,
    PageEvent,
    PageInventoryNumber,
    PagePhoneNumber,
    PhoneNumber,
    PhoneNumberDetails,
    PurchaseBody,
    UpdateBody,
    WebhookEndpointWithSecret,
)

client = AuthenticatedClient(base_url=base_url, token=api_key, raise_on_unexpected_status=True)


def expect(response, status, model):
    """The response has this status and parsed into this generated model."""
    assert response.status_code == status, (response.status_code, response.content)
    assert isinstance(response.parsed, model), (type(response.parsed), response.content)
    return response.parsed


class Receiver(http.server.BaseHTTPRequestHandler):
    """Keeps every delivery (headers and body) and answers 204."""

    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        Receiver.received.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()
hook = expect(
    create_webhook_endpoint.sync_detailed(
        client=client,
        body=CreateWebhookEndpointBody(url=f"http://127.0.0.1:{receiver.server_port}/hooks"),
    ),
    201,
    WebhookEndpointWithSecret,
)
assert hook.secret.startswith("whsec_") and hook.events == ["*"], hook

# Search the inventory: a page of inventory numbers, not of owned ones.
page = expect(
    list_phone_numbers.sync_detailed(
        client=client, action=ListAction.AVAILABLE, country=CountryCode.US, type_=NumberType.LOCAL, limit=5
    ),
    200,
    PageInventoryNumber,
)
assert page.limit == 5 and len(page.data) == 5 and page.total >= 5, page
first, second = page.data[0], page.data[1]
assert first.type_ == NumberType.LOCAL and first.country == "US"

# Buy at the price seen, with an Idempotency-Key.
total = first.setup_cost_cents + first.monthly_cost_cents
bought = expect(
    purchase_phone_number.sync_detailed(
        client=client,
        body=PurchaseBody(inventory_id=first.id, total_cost_cents=total),
        idempotency_key=f"flow-{uuid.uuid4()}",
    ),
    201,
    PhoneNumber,
)
assert bought.e164 == first.e164 and bought.status == NumberStatus.ACTIVE and bought.endpoint_id is None

# The same number again: 409 number_unavailable, in the error shape.
sold = expect(purchase_phone_number.sync_detailed(client=client, body=PurchaseBody(inventory_id=first.id)), 409, ErrorBody)
assert sold.error.code == "number_unavailable" and sold.request_id, sold

# A limit out of range: 400 validation_error naming the field.
bad = expect(list_phone_numbers.sync_detailed(client=client, limit=0), 400, ErrorBody)
assert (bad.error.code, bad.error.field) == ("validation_error", "limit"), bad

# Its SIP credentials.
details = expect(get_phone_number.sync_detailed(bought.id, client=client), 200, PhoneNumberDetails)
assert details.sip_credentials.password and details.sip_uri.startswith("sip:"), details

# An endpoint, and the number attached to it with outbound calls off.
endpoint = expect(
    create_endpoint.sync_detailed(client=client, body=CreateEndpointBody(name="Generated client line")), 201, Endpoint
)
endpoints = expect(list_endpoints.sync_detailed(client=client, limit=100), 200, PageEndpoint)
assert endpoint.id in [e.id for e in endpoints.data]
updated = expect(
    update_phone_number.sync_detailed(
        bought.id, client=client, body=UpdateBody(endpoint_id=endpoint.id, allow_outbound=False)
    ),
    200,
    PhoneNumber,
)
assert updated.endpoint_id == endpoint.id and updated.allow_outbound is False and updated.allow_inbound is True

# The organization's numbers: a page of owned numbers, with this one.
owned = expect(list_phone_numbers.sync_detailed(client=client, action=ListAction.ASSIGNED), 200, PagePhoneNumber)
assert bought.id in [n.id for n in owned.data], owned

# Release it: the record stays, inactive, and its password is withheld.
released = expect(
    delete_phone_number.sync_detailed(bought.id, client=client, action=DeleteAction.RELEASE), 200, PhoneNumber
)
assert released.status == NumberStatus.INACTIVE and released.released_at is not None, released
after = expect(get_phone_number.sync_detailed(bought.id, client=client), 200, PhoneNumberDetails)
assert after.sip_credentials.password is None, after

# Buy another in the dashboard's flow and delete it for good.
other = expect(
    purchase_phone_number.sync_detailed(
        client=client,
        body=PurchaseBody(e164=second.e164, country=CountryCode(second.country), type_=second.type_),
    ),
    201,
    PhoneNumber,
)
gone = delete_phone_number.sync_detailed(other.id, client=client)
assert gone.status_code == 204, gone
missing = expect(get_phone_number.sync_detailed(other.id, client=client), 404, ErrorBody)
assert missing.error.code == "not_found", missing

# Every change of the flow is an event, delivered to the receiver, signed: purchase, update,
# release, purchase, delete.
deadline = time.time() + 20
while len(Receiver.received) < 5 and time.time() < deadline:
    time.sleep(0.1)
assert len(Receiver.received) == 5, Receiver.received
verifier = Webhook(hook.secret)
delivered_types = []
for headers, body in Receiver.received:
    payload = verifier.verify(body, {k.lower(): v for k, v in headers.items()})
    assert payload["id"] == headers["webhook-id"], headers
    delivered_types.append(payload["type"])
assert sorted(delivered_types) == sorted(
    ["phone_number.purchased", "phone_number.updated", "phone_number.released", "phone_number.purchased",
     "phone_number.deleted"]
), delivered_types

events = expect(list_events.sync_detailed(client=client, limit=5), 200, PageEvent)
assert [e.type_ for e in events.data] == [
    EventType.PHONE_NUMBER_DELETED, EventType.PHONE_NUMBER_PURCHASED, EventType.PHONE_NUMBER_RELEASED,
    EventType.PHONE_NUMBER_UPDATED, EventType.PHONE_NUMBER_PURCHASED,
], events
update_event = expect(get_event.sync_detailed(events.data[3].id, client=client), 200, Event)
previous = update_event.data.previous_attributes.to_dict()
assert "endpoint_id" in previous and previous["endpoint_id"] is None, previous
attempts = expect(list_webhook_deliveries.sync_detailed(hook.id, client=client), 200, PageDeliveryAttempt)
assert attempts.total == 5 and all(a.succeeded and a.response_status == 204 for a in attempts.data), attempts

print("generated client: the whole flow parsed, its webhooks verified")
