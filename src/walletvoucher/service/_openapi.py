"""The till API described as OpenAPI 3.1 (served at ``/api/v1/openapi.json``).

Written by hand beside :mod:`walletvoucher.service._till` and checked against the live app by
schemathesis in the tests, so the document and the answers cannot drift apart unnoticed.
"""

from __future__ import annotations

from typing import Any

from walletvoucher.service._till import PROBLEM_BASE, PROBLEMS

_SERIAL = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}
_TIME = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _schemas() -> dict[str, Any]:
    voucher = {
        "type": "object",
        "required": ["serial", "card", "program", "status", "method", "reward", "valid_from", "expires_at",
                     "redeemed_at", "redeemed_by"],
        "properties": {
            "serial": {"type": "string"}, "card": {"type": "string"}, "program": {"type": "string"},
            "status": {"enum": ["issued", "active", "redeemed", "expired", "voided"]},
            "method": {"enum": ["self_redeem", "staff_scan", "redeem_code"]}, "reward": {"type": "string"},
            "valid_from": {"type": "string", "format": "date-time"}, "expires_at": _TIME,
            "redeemed_at": _TIME, "redeemed_by": {"type": ["string", "null"]},
        },
    }  # fmt: skip
    card = {
        "type": "object",
        "description": "A stamp card shows stamps, goal and progress; a prepaid punch card shows "
        "punches and punches_left instead (the others null). A card that earns by amount shows the "
        "amount kept towards its next stamp (amount_carried, in currency).",
        "required": ["serial", "program", "program_version", "member_id", "kind", "stamps", "goal",
                     "progress", "punches", "punches_left", "amount_carried", "currency", "vouchers"],
        "properties": {
            "serial": {"type": "string"}, "program": {"type": "string"},
            "program_version": {"type": "integer"},
            "member_id": {"type": "string"}, "kind": {"enum": ["stamps", "prepaid"]},
            "stamps": {"type": ["integer", "null"]}, "goal": {"type": ["integer", "null"]},
            "progress": {"type": ["string", "null"]},
            "punches": {"type": ["integer", "null"]}, "punches_left": {"type": ["integer", "null"]},
            "amount_carried": {"type": ["string", "null"]}, "currency": {"type": ["string", "null"]},
            "vouchers": {"type": "array", "items": _ref("Voucher")},
        },
    }  # fmt: skip
    problem = {
        "type": "object", "required": ["type", "title", "status"],
        "properties": {"type": {"type": "string", "format": "uri"}, "title": {"type": "string"},
                       "status": {"type": "integer"}, "detail": {"type": "string"}},
    }  # fmt: skip
    return {
        "Voucher": voucher,
        "Card": card,
        "Problem": problem,
        "NewCard": {
            "type": "object",
            "required": ["program", "member_id"],
            "additionalProperties": False,
            "properties": {
                "program": {"type": "string", "minLength": 1, "maxLength": 56},
                "member_id": {"type": "string", "minLength": 1, "maxLength": 200},
                "serial": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,56}$"},
            },
        },
        "Stamps": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "count": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1},
                "source": {"type": "string", "minLength": 1, "maxLength": 60},
            },
        },
        "Purchase": {
            "type": "object",
            "required": ["amount", "currency"],
            "additionalProperties": False,
            "description": "A purchase on a card whose program earns by amount: one stamp per step "
            "of the program's currency, the rest kept or dropped as the program says.",
            "properties": {
                "amount": {"type": "string", "pattern": "^(?!0+(\\.0+)?$)[0-9]{1,15}(\\.[0-9]{1,6})?$",
                           "description": "A decimal amount above 0, as text (no floats)"},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$",
                             "description": "ISO 4217; must be the program's"},
                "source": {"type": "string", "minLength": 1, "maxLength": 60},
            },
        },
        "Punches": {
            "type": "object",
            "additionalProperties": False,
            "description": "Punches of a prepaid card to use, all or none.",
            "properties": {
                "count": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1},
                "source": {"type": "string", "minLength": 1, "maxLength": 60},
            },
        },
        "StampResult": {
            "type": "object",
            "required": ["card", "vouchers"],
            "properties": {"card": _ref("Card"), "vouchers": {"type": "array", "items": _ref("Voucher")}},
        },
        "Redemption": {
            "type": "object",
            "additionalProperties": False,
            "description": "Either voucher and code (a Redeem Code typed or scanned at the POS), or "
            "scan (a Staff-Scan token or a rotating Google Wallet code). The credential's location and the "
            "channel (in_store unless given) are checked against the reward's redemption context.",
            "properties": {
                "voucher": _SERIAL,
                "code": {"type": "string", "minLength": 1, "maxLength": 64},
                "scan": {"type": "string", "minLength": 1, "maxLength": 256},
                "channel": {"enum": ["in_store", "online"]},
            },
        },
        "RedemptionResult": {
            "type": "object",
            "required": ["voucher", "card"],
            "properties": {"voucher": _ref("Voucher"), "card": _ref("Card")},
        },
        "Vouchers": {
            "type": "object",
            "required": ["vouchers"],
            "properties": {"vouchers": {"type": "array", "items": _ref("Voucher")}},
        },
        "Journal": {
            "type": "object",
            "required": ["entries", "next"],
            "properties": {
                "next": {"type": "integer"},
                "entries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["position", "version", "type", "at", "card", "data"],
                        "properties": {
                            "position": {"type": "integer"},
                            "version": {"type": "integer"},
                            "type": {"type": "string"},
                            "at": {"type": "string"},
                            "card": {"type": "string"},
                            "data": {"type": "object"},
                        },
                    },
                },
            },
        },
        "Reconciliation": {
            "type": "object",
            "required": ["codes"],
            "additionalProperties": False,
            "properties": {
                "codes": {
                    "type": "array",
                    "maxItems": 10000,
                    "items": {"type": "string", "minLength": 1, "maxLength": 64},
                }
            },
        },
        "ReconcileReport": {
            "type": "object",
            "required": ["redeemed", "already_redeemed", "unknown", "not_redeemable"],
            "properties": {
                "redeemed": {"type": "array", "items": {"type": "string"}},
                "already_redeemed": {"type": "array", "items": {"type": "object"}},
                "unknown": {"type": "array", "items": {"type": "string"}},
                "not_redeemable": {"type": "array", "items": {"type": "object"}},
            },
        },
    }


def _answers(ok: int, schema: str, *problems: int) -> dict[str, Any]:
    answers: dict[str, Any] = {
        str(ok): {"description": "done", "content": {"application/json": {"schema": _ref(schema)}}}
    }
    for status in sorted({401, 403, 405, 429, 500, 503, *problems}):
        slugs = ", ".join(s for s, (code, _) in PROBLEMS.items() if code == status) or "internal"
        answers[str(status)] = {
            "description": f"problem: {slugs}",
            "content": {"application/problem+json": {"schema": _ref("Problem")}},
        }
    return answers


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
    "description": "A repeat with the same key returns the first result.",
}
_CARD = {"name": "serial", "in": "path", "required": True, "schema": _SERIAL}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``/api/v1`` (paths, bodies, answers, problem types, security)."""
    post_problems = (404, 409, 413, 415, 422)
    paths = {
        "/api/v1/cards": {
            "post": {
                "operationId": "issueCard",
                "summary": "Issue a card (scope issue)",
                "parameters": [_KEY],
                "requestBody": _body("NewCard"),
                "responses": _answers(201, "Card", *post_problems),
            },
            "get": {
                "operationId": "findCard",
                "summary": "The card a scanned barcode shows (scope read)",
                "parameters": [
                    {
                        "name": "barcode",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 256},
                    }
                ],
                "responses": _answers(200, "Card", 404, 422),
            },
        },
        "/api/v1/cards/{serial}": {
            "get": {
                "operationId": "getCard",
                "summary": "A card (scope read)",
                "parameters": [_CARD],
                "responses": _answers(200, "Card", 404),
            },
        },
        "/api/v1/cards/{serial}/stamps": {
            "post": {
                "operationId": "addStamps",
                "summary": "Add stamps (scope stamp)",
                "parameters": [_CARD, _KEY],
                "requestBody": _body("Stamps"),
                "responses": _answers(200, "StampResult", *post_problems),
            },
        },
        "/api/v1/cards/{serial}/purchases": {
            "post": {
                "operationId": "recordPurchase",
                "summary": "Record a purchase by amount (scope stamp)",
                "parameters": [_CARD, _KEY],
                "requestBody": _body("Purchase"),
                "responses": _answers(200, "StampResult", *post_problems),
            },
        },
        "/api/v1/cards/{serial}/punches": {
            "post": {
                "operationId": "usePunches",
                "summary": "Use punches of a prepaid card (scope stamp)",
                "parameters": [_CARD, _KEY],
                "requestBody": _body("Punches"),
                "responses": _answers(200, "StampResult", *post_problems),
            },
        },
        "/api/v1/cards/{serial}/vouchers": {
            "get": {
                "operationId": "listVouchers",
                "summary": "A card's vouchers (scope read)",
                "parameters": [_CARD],
                "responses": _answers(200, "Vouchers", 404),
            },
        },
        "/api/v1/redemptions": {
            "post": {
                "operationId": "redeem",
                "summary": "Redeem a voucher by code or scan (scope redeem)",
                "parameters": [_KEY],
                "requestBody": _body("Redemption"),
                "responses": _answers(200, "RedemptionResult", *post_problems),
            },
        },
        "/api/v1/reconciliations": {
            "post": {
                "operationId": "reconcile",
                "summary": "Mark POS-redeemed codes redeemed (scope reconcile)",
                "requestBody": _body("Reconciliation"),
                "responses": _answers(200, "ReconcileReport", *post_problems),
            },
        },
        "/api/v1/journal": {
            "get": {
                "operationId": "journal",
                "summary": "Events after a position (scope read)",
                "parameters": [
                    {
                        "name": "since",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 0, "maximum": 999999999999999},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                ],
                "responses": _answers(200, "Journal", 422),
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "walletvoucher till API",
            "version": "1",
            "description": f"Problem types: {PROBLEM_BASE}<slug> for each of: {', '.join(PROBLEMS)}.",
        },
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


__all__ = ["openapi_document"]
