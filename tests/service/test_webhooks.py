"""Webhooks out: queued with the transition (both engines), delivered by the outbox worker to a
loopback HTTPS receiver, signed as Standard Webhooks says -- checked with the ``standardwebhooks``
package, not with our own code."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks

from walletvoucher.errors import ServiceConfigError, WalletVoucherError, WebhookNotDelivered
from walletvoucher.model import SelfRedeem
from walletvoucher.service import (
    WEBHOOK_EVENTS,
    WEBHOOK_TOPIC,
    WebhookEndpoint,
    Webhooks,
    drain_outbox,
    load_webhooks,
)
from walletvoucher.store import Wallet

from .conftest import NOW, coffee_program
from .servers import UvicornThread

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"o" * 32).decode()


class Receiver:
    """A webhook receiver: records every request, answers from a script (then 204)."""

    def __init__(self) -> None:
        self.seen: list[tuple[dict[str, str], bytes]] = []
        self.script: list[tuple[int, dict[str, str]]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.seen.append((headers, body))
        status, extra = self.script.pop(0) if self.script else (204, {})
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in extra.items()],
            }
        )
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def receiver(server_cert: tuple[Path, Path]) -> Iterator[tuple[Receiver, str]]:
    app = Receiver()
    certfile, keyfile = server_cert
    with UvicornThread(app, certfile=certfile, keyfile=keyfile) as server:
        yield app, server.url + "/hooks"


def _wallet(db_url: str, hooks: Webhooks) -> Wallet:
    return Wallet.open(
        db_url, programs=[coffee_program()], effects=[hooks.effect], activity_effects=[hooks.activity_effect]
    )


def _queued(wallet: Wallet) -> list[dict[str, Any]]:
    return [
        dict(m.payload)
        for m in wallet.outbox.claim(at=NOW + timedelta(days=1), limit=100, topics=[WEBHOOK_TOPIC])
    ]


def test_transitions_queue_one_message_per_event_and_subscribed_endpoint(engine: str, db_url: str) -> None:
    hooks = Webhooks(
        [
            WebhookEndpoint(url="https://backend.example/all", secret=SECRET),
            WebhookEndpoint(url="https://backend.example/rewards", secret=OTHER, events=["voucher_redeemed"]),
        ]
    )
    with _wallet(db_url, hooks) as wallet:
        wallet.issue_card("coffee", serial="W-1", member_id="m-1", at=NOW)
        [voucher] = wallet.stamp("W-1", 10, at=NOW, source="till-1").vouchers
        wallet.redeem(voucher.serial, SelfRedeem(), at=NOW)
        wallet.passes.register("device-1", "W-1", "push-token-1", at=NOW)
        wallet.passes.unregister("device-1", "W-1", at=NOW)
        queued = _queued(wallet)
    everything = [
        (m["type"], m["data"]["card"]) for m in queued if m["endpoint"] == "https://backend.example/all"
    ]
    assert everything == [
        ("card_issued", "W-1"),
        ("stamp_added", "W-1"),
        ("voucher_issued", "W-1"),
        ("voucher_redeemed", "W-1"),
        ("card_saved", "W-1"),
        ("card_removed", "W-1"),
    ]
    rewards = [m for m in queued if m["endpoint"] == "https://backend.example/rewards"]
    assert [m["type"] for m in rewards] == ["voucher_redeemed"]
    issued = next(m for m in queued if m["type"] == "voucher_issued")
    assert issued["data"]["voucher"]["serial"] == voucher.serial and issued["data"]["member_id"] == "m-1"
    stamped = next(m for m in queued if m["type"] == "stamp_added")
    assert stamped["data"]["count"] == 10 and stamped["data"]["source"] == "till-1"
    assert len({m["id"] for m in queued if m["endpoint"].endswith("/all")}) == 6  # one id per event


def test_a_failed_transition_queues_nothing(db_url: str) -> None:
    hooks = Webhooks([WebhookEndpoint(url="https://backend.example/all", secret=SECRET)])
    with _wallet(db_url, hooks) as wallet:
        wallet.issue_card("coffee", serial="W-2", member_id="m-2", at=NOW)
        [voucher] = wallet.stamp("W-2", 10, at=NOW).vouchers
        wallet.redeem(voucher.serial, SelfRedeem(), at=NOW)
        with pytest.raises(WalletVoucherError):
            wallet.redeem(voucher.serial, SelfRedeem(), at=NOW)
        assert [m["type"] for m in _queued(wallet)].count("voucher_redeemed") == 1


def test_delivery_is_signed_retried_with_the_same_id_and_verifies_with_standardwebhooks(
    db_url: str,
    receiver: tuple[Receiver, str],
    tls_ca_file: Path,
) -> None:
    app, url = receiver
    hooks = Webhooks([WebhookEndpoint(url=url, secret=SECRET, events=["stamp_added"])])
    app.script = [(500, {}), (429, {"retry-after": "120"})]
    sender = hooks.sender(ca_file=tls_ca_file)
    with _wallet(db_url, hooks) as wallet:
        wallet.issue_card("coffee", serial="W-3", member_id="m-3", at=NOW)
        wallet.stamp("W-3", 2, at=NOW, source="kiosk")
        clock = datetime.now(timezone.utc)  # standardwebhooks checks the timestamp against the real clock
        first = drain_outbox(wallet, {WEBHOOK_TOPIC: sender}, at=clock)
        assert (first.completed, first.retried) == (0, 1) and "answered 500" in first.errors[0]
        clock += timedelta(seconds=6)  # the first backoff is 5 s
        second = drain_outbox(wallet, {WEBHOOK_TOPIC: sender}, at=clock)
        assert (second.completed, second.retried) == (0, 1)
        assert drain_outbox(wallet, {WEBHOOK_TOPIC: sender}, at=clock + timedelta(seconds=119)).completed == 0
        clock += timedelta(seconds=121)  # the receiver's Retry-After: 120
        assert drain_outbox(wallet, {WEBHOOK_TOPIC: sender}, at=clock).completed == 1
        assert wallet.outbox.pending() == 0
    sender.close()
    assert len(app.seen) == 3
    ids = {headers["webhook-id"] for headers, _ in app.seen}
    assert len(ids) == 1  # stable across retries
    verifier = standardwebhooks.Webhook(SECRET)
    headers, body = app.seen[-1]
    assert int(headers["webhook-timestamp"]) == int(clock.timestamp())
    payload = verifier.verify(body, headers)
    assert payload["type"] == "stamp_added" and payload["data"]["card"] == "W-3"
    assert payload["data"]["count"] == 2 and payload["data"]["stamps"] == 2
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(OTHER).verify(body, headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        verifier.verify(body.replace(b'"count":2', b'"count":9'), headers)


def test_an_unreachable_receiver_keeps_the_message(db_url: str) -> None:
    hooks = Webhooks([WebhookEndpoint(url="https://127.0.0.1:9/hooks", secret=SECRET)])
    sender = hooks.sender(timeout=2.0)
    with _wallet(db_url, hooks) as wallet:
        wallet.issue_card("coffee", serial="W-4", member_id="m-4", at=NOW)
        report = drain_outbox(wallet, {WEBHOOK_TOPIC: sender}, at=NOW)
        assert report.retried == 1 and "WebhookNotDelivered" in report.errors[0]
        assert wallet.outbox.pending() == 1
    sender.close()


def test_a_message_for_an_endpoint_no_longer_configured_waits() -> None:
    sender = Webhooks([WebhookEndpoint(url="https://backend.example/a", secret=SECRET)]).sender()
    from walletvoucher.store import OutboxMessage

    message = OutboxMessage(
        id=1,
        topic=WEBHOOK_TOPIC,
        created_at=NOW,
        attempts=1,
        last_error=None,
        payload={
            "endpoint": "gone",
            "id": "wv_evt_1",
            "type": "card_issued",
            "timestamp": NOW.isoformat(),
            "data": {},
        },
    )
    with pytest.raises(WebhookNotDelivered, match="no endpoint named 'gone'"):
        sender(message, NOW)
    sender.close()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "http://backend.example/hooks"}, "webhooks.url"),
        ({"url": "ftp://backend.example/hooks"}, "webhooks.url"),
        ({"url": "https://user:pw@backend.example/hooks"}, "webhooks.url"),
        ({"url": "https:///hooks"}, "webhooks.url"),
        ({"secret": "not-a-secret"}, "webhooks.secret"),
        ({"secret": "whsec_!!!"}, "webhooks.secret"),
        ({"secret": "whsec_" + base64.b64encode(b"short").decode()}, "webhooks.secret"),
        ({"events": ["stamp_added", "stamps_added"]}, "webhooks.events"),
        ({"events": "stamp_added"}, "webhooks.events"),
        ({"events": []}, "webhooks.events"),
    ],
)
def test_endpoint_mistakes_name_the_setting_and_never_the_secret(kwargs: dict[str, Any], field: str) -> None:
    given = {"url": "https://backend.example/hooks", "secret": SECRET, **kwargs}
    with pytest.raises(ServiceConfigError, match=f"^{field}") as caught:
        WebhookEndpoint(**given)
    assert "Fix:" in str(caught.value)
    assert SECRET[6:] not in str(caught.value) and "not-a-secret" not in str(caught.value)


def test_http_is_allowed_on_loopback_only_and_the_secret_never_shows() -> None:
    endpoint = WebhookEndpoint(url="http://127.0.0.1:8000/hooks", secret=SECRET)
    assert SECRET[6:] not in repr(endpoint) and "k" * 8 not in repr(endpoint)
    assert endpoint.events == WEBHOOK_EVENTS


def test_config_tables_read_the_secret_from_the_environment_only() -> None:
    tables = [{"url": "https://backend.example/hooks", "secret_env": "HOOKS", "events": ["voucher_redeemed"]}]
    hooks = load_webhooks(tables, {"HOOKS": SECRET})
    assert hooks.endpoints[0].events == ("voucher_redeemed",)
    with pytest.raises(ServiceConfigError, match="secret_env"):
        load_webhooks(tables, {})
    with pytest.raises(ServiceConfigError, match="unknown keys"):
        load_webhooks([{"url": "https://backend.example/hooks", "secret": SECRET}], {})
    with pytest.raises(ServiceConfigError, match="array of tables"):
        load_webhooks({"url": "x"}, {})
    with pytest.raises(ServiceConfigError, match="two endpoints alike"):
        load_webhooks(tables * 2, {"HOOKS": SECRET})


def test_the_signature_is_the_standard_one_for_a_known_message() -> None:
    endpoint = WebhookEndpoint(url="https://backend.example/hooks", secret=SECRET)
    body = json.dumps({"type": "card_issued"}).encode()
    expected = standardwebhooks.Webhook(SECRET).sign("wv_evt_1", NOW, body.decode())
    assert endpoint.sign("wv_evt_1", int(NOW.timestamp()), body) == expected


def test_the_worker_command_delivers_the_config_files_webhooks(
    db_url: str, tmp_path: Path, chain_files: dict[str, Path]
) -> None:
    import http.server
    import subprocess
    import sys
    import threading

    got: list[tuple[dict[str, str], bytes]] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append((dict(self.headers), self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = tmp_path / "walletvoucher.toml"
    config.write_text(
        f'[[webhooks]]\nurl = "http://127.0.0.1:{server.server_port}/hooks"\n'
        'secret_env = "HOOK_SECRET"\nevents = ["card_issued", "stamp_added"]\n',
        encoding="utf-8",
    )
    hooks = load_webhooks(
        [
            {
                "url": f"http://127.0.0.1:{server.server_port}/hooks",
                "secret_env": "S",
                "events": ["card_issued", "stamp_added"],
            }
        ],
        {"S": SECRET},
    )
    with _wallet(db_url, hooks) as wallet:  # what serve does: transitions queue the deliveries
        wallet.issue_card("coffee", serial="W-9", member_id="m-9", at=NOW)
        wallet.stamp("W-9", 1, at=NOW)
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": ":".join(sys.path),
        "HOOK_SECRET": SECRET,
        "WALLETVOUCHER_PASS_TYPE_IDENTIFIER": "pass.com.example.coffee",
        "WALLETVOUCHER_TEAM_IDENTIFIER": "ABCDE12345",
        "WALLETVOUCHER_CERTIFICATE": str(chain_files["certificate"]),
        "WALLETVOUCHER_KEY": str(chain_files["key"]),
        "WALLETVOUCHER_WWDR": str(chain_files["wwdr"]),
    }
    code = "import sys; from walletvoucher.cli import main; sys.exit(main())"
    done = subprocess.run(
        [sys.executable, "-c", code, "worker", "--db", db_url, "--once", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    server.shutdown()
    assert done.returncode == 0, done.stderr
    verifier = standardwebhooks.Webhook(SECRET)
    types = [
        verifier.verify(body, {k.lower(): v for k, v in headers.items()})["type"] for headers, body in got
    ]
    assert types == ["card_issued", "stamp_added"] and SECRET not in done.stdout + done.stderr


def test_a_prepaid_cards_punches_are_webhooks_too(db_url: str) -> None:
    from walletvoucher import Brand, Program, ProgramKind, RedemptionMethod, Reward

    prepaid = Program(id="ten", name="Ten coffees", goal=1, kind=ProgramKind.PREPAID, punches=10,
                      redemption=RedemptionMethod.SELF_REDEEM,
                      reward=Reward(title="Coffee", description="Any"),
                      brand=Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"))
    endpoint = WebhookEndpoint(url="https://backend.example/punches", secret=SECRET, events=["punch_used"])
    hooks = Webhooks([endpoint])
    with Wallet.open(db_url, programs=[prepaid], effects=[hooks.effect]) as wallet:
        wallet.issue_card(prepaid, serial="P-1", member_id="m-1", at=NOW)
        wallet.punch("P-1", at=NOW, source="till-1")
        queued = _queued(wallet)
    assert [m["type"] for m in queued] == ["punch_used"]
    assert queued[0]["data"]["card"] == "P-1" and queued[0]["data"]["source"] == "till-1"
