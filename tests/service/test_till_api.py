"""The till API (``/api/v1``): keys and scopes, cards, stamps, redemptions by code and by scan,
problem details, idempotency, rate limits, the journal and reconciliation -- in process on both
engines, and over HTTPS on loopback for the races and the OpenAPI document (validated by
openapi-spec-validator, exercised by schemathesis)."""

from __future__ import annotations

import json
import secrets
import ssl
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from walletvoucher import Brand, Program, RedemptionMethod, Reward, Validity
from walletvoucher.codes import ScanKey, issue_scan_token
from walletvoucher.codes._rotating import rotating_value
from walletvoucher.service import (
    PROBLEMS,
    PassTokens,
    PassWebService,
    RateLimit,
    ServiceRequest,
    StorePassUpdates,
    TillApi,
    WalletPerThread,
)
from walletvoucher.service._openapi import openapi_document
from walletvoucher.service._till import PROBLEM_BASE
from walletvoucher.service.asgi import create_app
from walletvoucher.store import Wallet

from .conftest import NOW
from .servers import UvicornThread

SCAN_KEY = ScanKey(key_id="k1", secret=b"scan-key-secret-0123456789abcdef")


def program(program_id: str, method: RedemptionMethod) -> Program:
    return Program(
        id=program_id,
        name="Coffee card",
        goal=10,
        redemption=method,
        validity=Validity.for_days(30),
        reward=Reward(title="Free coffee", description="Any size"),
        brand=Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
    )


PROGRAMS = [program("code", RedemptionMethod.REDEEM_CODE), program("scan", RedemptionMethod.STAFF_SCAN)]


@pytest.fixture
def wallet(db_url: str) -> Iterator[Wallet]:
    with Wallet.open(db_url, programs=PROGRAMS, random=secrets.token_bytes) as opened:
        yield opened


@pytest.fixture
def api(wallet: Wallet) -> TillApi:
    return TillApi(wallet, scan_keys=[SCAN_KEY], random=secrets.token_bytes)


def key(
    wallet: Wallet, name: str = "till-1", scopes: tuple[str, ...] = ("issue", "stamp", "redeem", "read")
) -> str:
    return wallet.access.create_api_key(name, scopes=scopes, at=NOW, random=secrets.token_bytes).secret


def call(
    api: TillApi,
    method: str,
    path: str,
    token: str | None,
    body: Any = None,
    *,
    at: datetime = NOW,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> tuple[int, Any, Any]:
    sent = {
        "content-type": "application/json",
        **({"authorization": f"Bearer {token}"} if token else {}),
        **(headers or {}),
    }
    raw = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else (body or b"")
    answer = api.handle(
        ServiceRequest(method=method, path=path, headers=sent, query=query or {}, body=raw), at=at
    )
    document = json.loads(answer.body) if answer.body else None
    if answer.status >= 400:
        assert answer.header("content-type") == "application/problem+json"
        assert document["status"] == answer.status and document["type"].startswith(PROBLEM_BASE)
        assert PROBLEMS[document["type"][len(PROBLEM_BASE) :]][0] == answer.status
    return answer.status, document, answer


def _stamped(api: TillApi, token: str, program_id: str = "code") -> tuple[str, str]:
    status, card, _ = call(api, "POST", "/api/v1/cards", token, {"program": program_id, "member_id": "m-1"})
    assert status == 201
    status, result, _ = call(api, "POST", f"/api/v1/cards/{card['serial']}/stamps", token, {"count": 10})
    assert status == 200 and len(result["vouchers"]) == 1
    return card["serial"], result["vouchers"][0]["serial"]


def test_keys_are_required_scoped_and_revocable(api: TillApi, wallet: Wallet) -> None:
    assert call(api, "GET", "/api/v1/cards/X", None)[0] == 401
    assert call(api, "GET", "/api/v1/cards/X", "wvk_" + "a" * 43)[0] == 401
    assert (
        call(api, "GET", "/api/v1/cards/X", key(wallet))[2].header("content-type")
        == "application/problem+json"
    )
    reader = key(wallet, "reader", ("read",))
    status, problem, _ = call(api, "POST", "/api/v1/cards", reader, {"program": "code", "member_id": "m"})
    assert status == 403 and problem["scope"] == "issue"
    wallet.access.revoke("api_key", "reader", at=NOW)
    status, _, answer = call(api, "GET", "/api/v1/cards/X", reader)
    assert status == 401 and answer.header(
        "www-authenticate",
    ).startswith("Bearer")


def test_a_card_is_issued_found_by_serial_and_by_barcode(api: TillApi, wallet: Wallet) -> None:
    token = key(wallet)
    status, card, answer = call(api, "POST", "/api/v1/cards", token, {"program": "code", "member_id": "m-1"})
    assert status == 201 and card["progress"] == "0/10" and answer.header("location").endswith(card["serial"])
    assert call(api, "GET", f"/api/v1/cards/{card['serial']}", token)[1] == card
    assert call(api, "GET", "/api/v1/cards", token, query={"barcode": card["serial"]})[1] == card
    status, problem, _ = call(api, "GET", "/api/v1/cards/NOPE", token)
    assert status == 404 and problem["type"] == PROBLEM_BASE + "unknown-card"
    status, problem, _ = call(api, "POST", "/api/v1/cards", token, {"program": "tea", "member_id": "m"})
    assert status == 422 and problem["type"].endswith("unknown-program")


def test_an_idempotency_key_returns_the_first_result(api: TillApi, wallet: Wallet) -> None:
    token, headers = key(wallet), {"idempotency-key": "order-77"}
    first = call(
        api, "POST", "/api/v1/cards", token, {"program": "code", "member_id": "m-1"}, headers=headers
    )
    again = call(
        api, "POST", "/api/v1/cards", token, {"program": "code", "member_id": "m-1"}, headers=headers
    )
    assert first[0] == again[0] == 201 and first[1]["serial"] == again[1]["serial"]
    other = call(
        api, "POST", "/api/v1/cards", token, {"program": "code", "member_id": "m-2"}, headers=headers
    )
    assert other[0] == 422 and other[1]["type"].endswith("idempotency-key-reused")
    serial = first[1]["serial"]
    stamp = {"idempotency-key": "sale-1"}
    one = call(api, "POST", f"/api/v1/cards/{serial}/stamps", token, {"count": 3}, headers=stamp)
    two = call(api, "POST", f"/api/v1/cards/{serial}/stamps", token, {"count": 3}, headers=stamp)
    assert one[1]["card"]["stamps"] == two[1]["card"]["stamps"] == 3


def test_a_code_redeems_once_and_the_second_till_hears_when_and_by_whom(api: TillApi, wallet: Wallet) -> None:
    till1, till2 = key(wallet), key(wallet, "till-2")
    card, voucher = _stamped(api, till1)
    code = wallet.card(card).vouchers[0].code
    assert code is not None
    status, problem, _ = call(
        api, "POST", "/api/v1/redemptions", till1, {"voucher": voucher, "code": "0000-0000-0000"}
    )
    assert status == 422 and problem["type"].endswith("wrong-code")
    status, done, _ = call(
        api, "POST", "/api/v1/redemptions", till1, {"voucher": voucher, "code": code.value.lower()}
    )
    assert status == 200 and done["voucher"]["status"] == "redeemed" and done["card"]["vouchers"] == []
    status, problem, _ = call(
        api,
        "POST",
        "/api/v1/redemptions",
        till2,
        {"voucher": voucher, "code": code.value},
        at=NOW + timedelta(minutes=5),
    )
    assert status == 409 and problem["type"] == PROBLEM_BASE + "already-redeemed"
    assert problem["redeemed_by"] == "api:till-1" and problem["redeemed_at"] == NOW.isoformat()
    entries = call(api, "GET", "/api/v1/journal", till1)[1]["entries"]
    assert code.value not in json.dumps(entries)  # the redeem code stays on the customer's pass
    stamped = next(e for e in entries if e["type"] == "stamp_added")
    assert stamped["data"]["source"] == "api:till-1"


def test_a_rotating_code_redeems_once_and_its_replay_is_refused(api: TillApi, wallet: Wallet) -> None:
    staff = key(wallet)
    _, voucher = _stamped(api, staff, "scan")
    live = rotating_value(voucher, key_id="k1", secret=SCAN_KEY.secret, at=NOW)
    status, problem, _ = call(
        api, "POST", "/api/v1/redemptions", staff, {"scan": live}, at=NOW + timedelta(hours=1)
    )
    assert status == 422 and problem["type"].endswith("stale-scan")  # a screenshot an hour old
    assert (
        call(api, "POST", "/api/v1/redemptions", staff, {"scan": live}, at=NOW + timedelta(seconds=5))[0]
        == 200
    )
    status, problem, _ = call(
        api, "POST", "/api/v1/redemptions", staff, {"scan": live}, at=NOW + timedelta(seconds=9)
    )
    assert status == 409 and problem["type"].endswith("scan-replayed")


def test_a_signed_scan_token_redeems_once(api: TillApi, wallet: Wallet) -> None:
    staff = key(wallet)
    _, voucher = _stamped(api, staff, "scan")
    token = issue_scan_token(voucher, expires_at=None, key=SCAN_KEY)
    assert call(api, "POST", "/api/v1/redemptions", staff, {"scan": token})[0] == 200
    status, problem, _ = call(api, "POST", "/api/v1/redemptions", staff, {"scan": token})
    assert status == 409 and problem["redeemed_by"] == "api:till-1"
    status, problem, _ = call(api, "POST", "/api/v1/redemptions", staff, {"scan": token[:-2] + "AA"})
    assert status == 422 and problem["type"].endswith("invalid-scan")


def test_reconciliation_redeems_known_codes_once_and_reports_the_rest(api: TillApi, wallet: Wallet) -> None:
    token = key(wallet, "backend", ("issue", "stamp", "reconcile", "read"))
    card, voucher = _stamped(api, token)
    code = wallet.card(card).vouchers[0].code
    assert code is not None
    status, report, _ = call(
        api, "POST", "/api/v1/reconciliations", token, {"codes": [code.value, "UNKNOWN-1"]}
    )
    assert status == 200 and report["redeemed"] == [voucher] and report["unknown"] == ["UNKNOWN-1"]
    status, report, _ = call(api, "POST", "/api/v1/reconciliations", token, {"codes": [code.value]})
    assert report["redeemed"] == [] and report["already_redeemed"][0]["code"] == code.value
    assert wallet.voucher(voucher).redeemed_by == "api:backend (reconciled)"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/api/v1/nothing", None, 404),
        ("DELETE", "/api/v1/cards", None, 405),
        ("POST", "/api/v1/cards", b"{not json", 422),
        ("POST", "/api/v1/cards", b"[1, 2]", 422),
        ("POST", "/api/v1/cards", b"\xff\xfe", 422),
        ("POST", "/api/v1/cards", b"[" * 100_000, 413),
        ("POST", "/api/v1/cards", {"program": "code", "member_id": "m", "admin": True}, 422),
        ("POST", "/api/v1/cards", {"program": 5, "member_id": "m"}, 422),
        ("POST", "/api/v1/cards", {"program": "code", "member_id": "m", "serial": "../x"}, 422),
        ("POST", "/api/v1/cards/%00/stamps", {"count": 1}, 404),
        ("POST", "/api/v1/cards/C/stamps", {"count": 10**30}, 422),
        ("POST", "/api/v1/cards/C/stamps", {"count": True}, 422),
        ("POST", "/api/v1/redemptions", {"voucher": "V", "code": "\ud800"}, 422),
        ("POST", "/api/v1/redemptions", {"scan": "x" * 300}, 422),
        ("GET", "/api/v1/journal?since=-1", None, 422),
    ],
)
def test_hostile_requests_get_problems_never_500(
    api: TillApi, wallet: Wallet, method: str, path: str, body: Any, status: int
) -> None:
    token = key(wallet)
    query = dict([path.split("?", 1)[1].split("=")]) if "?" in path else {}
    assert call(api, method, path.split("?")[0], token, body, query=query)[0] == status


def test_wrong_content_type_and_rate_limit(wallet: Wallet) -> None:
    api = TillApi(wallet, random=secrets.token_bytes, rate=RateLimit(per_second=1, burst=2))
    token = key(wallet)
    assert call(api, "POST", "/api/v1/cards", token, b"x", headers={"content-type": "text/plain"})[0] == 415
    call(api, "GET", "/api/v1/journal", token)
    status, _, answer = call(api, "GET", "/api/v1/journal", token)
    assert status == 429 and int(answer.header("retry-after")) >= 1
    assert call(api, "GET", "/api/v1/journal", token, at=NOW + timedelta(seconds=3))[0] == 200


# --- over HTTPS on loopback ----------------------------------------------------------------------------


class Clock:
    def __call__(self) -> datetime:
        return datetime.now(timezone.utc)


@pytest.fixture
def served(
    db_url: str, tokens: PassTokens, server_cert: tuple[Path, Path]
) -> Iterator[tuple[str, WalletPerThread]]:
    wallets = WalletPerThread(db_url, programs=PROGRAMS, random=secrets.token_bytes)
    service = PassWebService(
        pass_type_identifier="pass.com.example.coffee",
        store=StorePassUpdates(wallets),
        tokens=tokens,
        render=lambda state: b"",
    )
    till = TillApi(
        wallets, scan_keys=[SCAN_KEY], random=secrets.token_bytes, rate=RateLimit(per_second=1000, burst=1000)
    )
    certfile, keyfile = server_cert
    try:
        with UvicornThread(
            create_app(service, till=till, clock=Clock()), certfile=certfile, keyfile=keyfile
        ) as server:
            yield server.url, wallets
    finally:
        wallets.close()


def test_two_tills_redeeming_one_code_at_once_get_one_200_and_one_409(
    engine: str, served: tuple[str, WalletPerThread], trust: ssl.SSLContext
) -> None:
    url, wallets = served
    wallet = wallets()
    tokens = [key(wallet, f"till-{n}") for n in range(2)]
    with httpx.Client(base_url=url, verify=trust, timeout=20) as client:
        auth = {"authorization": f"Bearer {tokens[0]}"}
        card = client.post("/api/v1/cards", json={"program": "code", "member_id": "m"}, headers=auth).json()
        client.post(f"/api/v1/cards/{card['serial']}/stamps", json={"count": 10}, headers=auth)
    [voucher] = wallet.card(card["serial"]).vouchers
    assert voucher.code is not None
    answers: list[int] = []
    gate = threading.Barrier(2)

    def redeem(token: str) -> None:
        with httpx.Client(base_url=url, verify=trust, timeout=20) as client:
            gate.wait()
            answers.append(
                client.post(
                    "/api/v1/redemptions",
                    headers={"authorization": f"Bearer {token}"},
                    json={"voucher": voucher.serial, "code": voucher.code.value},
                ).status_code
            )

    threads = [threading.Thread(target=redeem, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 409]


def test_the_openapi_document_is_valid_and_the_live_app_keeps_to_it(
    served: tuple[str, WalletPerThread], tls_ca_file: Path
) -> None:
    from openapi_spec_validator import validate

    validate(openapi_document())
    url, wallets = served
    token = key(wallets(), "schemathesis", ("issue", "stamp", "redeem", "read", "reconcile"))
    with httpx.Client(base_url=url, verify=ssl.create_default_context(cafile=str(tls_ca_file))) as client:
        served_doc = client.get("/api/v1/openapi.json").json()
    assert served_doc == openapi_document()
    with httpx.Client(base_url=url, verify=ssl.create_default_context(cafile=str(tls_ca_file))) as client:
        for path, operations in openapi_document()["paths"].items():
            for method in operations:
                sent = client.request(method.upper(), path.replace("{serial}", "C-1"), json={})
                assert sent.status_code == 401, (method, path)
    failures = _schemathesis(url, token, tls_ca_file)
    assert failures == [], "\n".join(failures[:5])


def _schemathesis(url: str, token: str, ca_file: Path) -> list[str]:
    """Run schemathesis's checks (no server errors, status codes, content types and bodies as
    documented) on generated requests against the live app; returns the failures found.

    One check is left out: "schema-valid data must be accepted". A well-formed request for a program
    or voucher that does not exist, or with a wrong code, is refused by the business rules (404, 409
    or a documented 422 problem), which is the point of the API. The "ignored auth" check cannot take
    the explicit header away again; every operation without a key is checked by the caller instead.
    """
    import requests
    import schemathesis
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis import given as hypothesis_given
    from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

    schema = schemathesis.openapi.from_dict(openapi_document())
    session = requests.Session()
    session.verify = str(ca_file)
    failures: list[str] = []
    for operation in schema.get_all_operations():
        op = operation.ok()

        @settings(
            max_examples=12,
            deadline=None,
            phases=[Phase.generate],
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis_given(case=op.as_strategy())
        def run(case: Any) -> None:
            try:
                case.call_and_validate(
                    base_url=url,
                    session=session,
                    verify=str(ca_file),
                    headers={"authorization": f"Bearer {token}"},
                    excluded_checks=[positive_data_acceptance, ignored_auth],
                )
            except Exception as exc:  # collected, reported together
                failures.append(f"{case.operation.label}: {str(exc)[:500]}")

        run()
    session.close()
    return failures


def test_every_problem_type_has_its_section_in_docs() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "problems.md").read_text(encoding="utf-8")
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == list(PROBLEMS)
    for slug, (status, _) in PROBLEMS.items():
        assert f"## {slug}\n\n**{status}**" in text
