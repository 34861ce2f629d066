"""Schemathesis hooks: the API's rules that OpenAPI cannot state, taught to the generator.

The document says all it can (enums, formats, bounds, patterns); these rules are in its
descriptions instead, since no schema can express them:
- `GET /v1/phone-numbers`: `country` is required with `action=available`, `contains` is
  refused with `action=assigned`, and `tag` and `q` with `action=available` (one parameter's
  rule depending on another's value); `q` follows the names' rule;
- `POST /v1/phone-numbers`: `e164` must be a real number of `country` (libphonenumber's
  metadata), and giving one of `e164`, `country`, `type` asks for all three;
- names (an endpoint's, a number's `friendlyName`) must not hold control, invisible (format), separator,
  private-use or unassigned code points: Unicode general categories, which the regular
  expressions of JSON Schema tools here cannot name;
- an `endpointId` must be an endpoint of the organization (the contract's 400 otherwise): the
  data, not its shape; so must a redelivery's `webhookEndpointId`;
- a webhook `url` must be an absolute URL as browsers parse them (WHATWG), which a pattern
  cannot say: valid bodies get a real one, on a closed loopback port;
- a webhook `description` follows the names' rule;
- an endpoint's `targets` must be SIP URIs as the `sip-uri` parser reads them (a pattern cannot
  say it): valid bodies get real ones, on loopback (the server allows private targets here);
- a reservation or an order (`POST /v1/number-reservations`, `POST /v1/number-orders`) names
  distinct `inventory_ids`, or `country` with `quantity` (and `type`, `contains` if wanted),
  not both.

A positive case ("valid" data) that breaks one of the first three is dropped, and one that
names an endpoint gets the one `run.sh` created (`KROS_FUZZ_ENDPOINT_ID`,
`KROS_FUZZ_WEBHOOK_ENDPOINT_ID`), so that the
`positive_data_acceptance` check only judges data the API promises to accept. Negative cases are
left alone: the API must refuse them, and the checks verify that it does.
"""

import os
import uuid
import unicodedata

import phonenumbers
import schemathesis
from schemathesis import GenerationMode

HIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Co", "Cn", "Cs"}


def is_positive(case):
    return case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE


def valid_name(name):
    return isinstance(name, str) and not any(unicodedata.category(c) in HIDDEN_CATEGORIES for c in name)


def real_number(e164, country):
    try:
        number = phonenumbers.parse(e164, country.upper())
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) == country.upper()


def list_rules_hold(query):
    query = query or {}
    if query.get("action") == "available":
        return "country" in query and "tag" not in query and "q" not in query
    return "contains" not in query and ("q" not in query or valid_name(query["q"]))


def purchase_rules_hold(body):
    if not isinstance(body, dict):
        return True
    # `null` is the same as absent.
    given = {field for field, value in body.items() if value is not None}
    number_fields = given & {"e164", "country", "type"}
    if number_fields and len(number_fields) < 3:
        return False
    if not number_fields and not given & {"inventory_id", "inventoryId"}:
        return False
    if number_fields:
        return real_number(str(body["e164"]), str(body["country"]))
    return True


def selection_rules_hold(body):
    if not isinstance(body, dict):
        return True
    given = {field for field, value in body.items() if value is not None}
    by_filter = given & {"country", "type", "contains", "quantity"}
    ids = body.get("inventory_ids")
    if ids is not None:
        return not by_filter and isinstance(ids, list) and len(set(map(str, ids))) == len(ids)
    return {"country", "quantity"} <= given


SELECTIONS = ("POST /v1/number-reservations", "POST /v1/number-orders")


@schemathesis.hook
def filter_case(ctx, case):
    if not is_positive(case):
        return True
    label = f"{case.method.upper()} {case.path}"
    if label == "GET /v1/phone-numbers":
        return list_rules_hold(case.query)
    if label == "POST /v1/phone-numbers":
        return purchase_rules_hold(case.body)
    if label in SELECTIONS:
        return selection_rules_hold(case.body)
    if label == "PATCH /v1/phone-numbers/{id}" and isinstance(case.body, dict):
        name = case.body.get("friendlyName")
        return name is None or valid_name(name)
    if label == "POST /v1/endpoints" and isinstance(case.body, dict):
        return valid_name(case.body.get("name"))
    if label == "PATCH /v1/endpoints/{id}" and isinstance(case.body, dict):
        name = case.body.get("name")
        return name is None or valid_name(name)
    if label in ("POST /v1/webhook-endpoints", "PATCH /v1/webhook-endpoints/{id}") and isinstance(case.body, dict):
        description = case.body.get("description")
        return description is None or not description.strip() or valid_name(description)
    return True


def use_real_ids(case):
    """A positive case names the endpoint and webhook endpoint run.sh created, and a real URL."""
    if not is_positive(case) or not isinstance(case.body, dict):
        return
    if case.body.get("endpointId") is not None:
        case.body["endpointId"] = os.environ["KROS_FUZZ_ENDPOINT_ID"]
    if case.body.get("webhookEndpointId") is not None:
        case.body["webhookEndpointId"] = os.environ["KROS_FUZZ_WEBHOOK_ENDPOINT_ID"]
    if case.path.startswith("/v1/webhook-endpoints") and isinstance(case.body.get("url"), str):
        case.body["url"] = f"http://127.0.0.1:9/fuzzed/{uuid.uuid4()}"
    if case.path.startswith("/v1/endpoints") and isinstance(case.body.get("targets"), list):
        case.body["targets"] = [f"sip:127.0.0.1:{5060 + i}" for i in range(len(case.body["targets"]))]


@schemathesis.hook
def map_case(ctx, case):
    use_real_ids(case)
    return case


@schemathesis.hook
def before_call(ctx, case, kwargs):
    # Every phase's cases pass here (the examples phase's do not all pass map_case).
    use_real_ids(case)
    # The stateful phase fills a path's `id` from a response that has none with the text "None":
    # a positive case gets an id that is merely unknown instead (404, which the checks expect).
    if is_positive(case) and (case.path_parameters or {}).get("id") in (None, "None"):
        if case.path_parameters is not None and "id" in case.path_parameters:
            case.path_parameters["id"] = str(uuid.uuid4())
    # The stateful phase builds bodies from links (an endpoint's `id` as `endpointId`) without
    # the generation hooks above: a purchase body so built that names no number is completed
    # with an inventory id, an unknown one (the API answers 404, which the checks expect).
    if (
        is_positive(case)
        and f"{case.method.upper()} {case.path}" == "POST /v1/phone-numbers"
        and isinstance(case.body, dict)
        and not purchase_rules_hold(case.body)
        and not {"e164", "country", "type"} & {f for f, v in case.body.items() if v is not None}
    ):
        case.body["inventory_id"] = str(uuid.uuid4())
