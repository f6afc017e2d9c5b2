"""How the till's calls reach the store (issue 15, speed): dedicated call threads, and group commit on
SQLite -- several waiting requests in one transaction, each in a savepoint of its own, so a bad one
gets its own answer and changes nothing while the others commit; if the group cannot commit, none
of them happened and each is answered 503. Checked against the store through other connections,
and end to end over HTTPS with many clients at once."""

from __future__ import annotations

import asyncio
import json
import secrets
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from walletvoucher.errors import DatabaseUnavailable, UnknownCard
from walletvoucher.service import (
    PassTokens,
    PassWebService,
    RateLimit,
    ServiceRequest,
    StorePassUpdates,
    TillApi,
    WalletPerThread,
)
from walletvoucher.service._calls import CallThreads
from walletvoucher.service.asgi import create_app
from walletvoucher.store import Wallet
from walletvoucher.store._group import grouped

from .conftest import NOW
from .servers import UvicornThread
from .test_till_api import PROGRAMS, key

HEADERS = {"content-type": "application/json"}


def _request(token: str, path: str, body: Any, idempotency: str | None = None) -> ServiceRequest:
    headers = {**HEADERS, "authorization": f"Bearer {token}"}
    if idempotency:
        headers["idempotency-key"] = idempotency
    return ServiceRequest(method="POST", path=path, headers=headers, query={}, body=json.dumps(body).encode())


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'till.db'}"


def _open(url: str) -> Wallet:
    return Wallet.open(url, programs=PROGRAMS, random=secrets.token_bytes)


def test_one_bad_request_in_a_group_gets_its_own_answer_and_the_others_commit(url: str) -> None:
    with _open(url) as wallet, _open(url) as other:
        token = key(wallet)
        for serial in ("A", "B"):
            wallet.issue_card("code", serial=serial, member_id="m", at=NOW)
        [voucher] = wallet.stamp("B", 10, at=NOW).vouchers
        assert voucher.code is not None
        api = TillApi(wallet, random=secrets.token_bytes)
        redeem = {"voucher": voucher.serial, "code": voucher.code.value}
        with api.grouped():
            answers = [
                api.handle(_request(token, "/api/v1/cards/A/stamps", {"count": 2}), at=NOW),
                api.handle(_request(token, "/api/v1/redemptions", {**redeem, "code": "WRONG-CODE"}), at=NOW),
                api.handle(_request(token, "/api/v1/cards/NOPE/stamps", {"count": 1}), at=NOW),
                api.handle(_request(token, "/api/v1/redemptions", redeem), at=NOW),
                api.handle(_request(token, "/api/v1/redemptions", redeem), at=NOW),  # the same code again
                api.handle(_request(token, "/api/v1/cards/A/stamps", {"count": 1}, "k-1"), at=NOW),
                api.handle(_request(token, "/api/v1/cards/A/stamps", {"count": 1}, "k-1"), at=NOW),  # replay
            ]
            # nothing is visible to another connection before the group commits
            assert other.card("A").stamps == 0 and other.voucher(voucher.serial).redeemed_at is None
        assert [a.status for a in answers] == [200, 422, 404, 200, 409, 200, 200]
        assert json.loads(answers[4].body)["redeemed_by"] == "api:till-1"
        assert answers[5].body == answers[6].body  # the idempotent replay answers the first result
        assert other.card("A").stamps == 3  # 2, then 1 once (the replay added nothing)
        assert other.voucher(voucher.serial).redeemed_by == "api:till-1"
        types = [entry.event.type.value for entry in other.journal(0, limit=100)]
        assert types.count("voucher_redeemed") == 1


def test_a_group_that_cannot_commit_leaves_nothing_and_forgets_its_cached_cards(url: str) -> None:
    with _open(url) as wallet, _open(url) as other:
        wallet.issue_card("code", serial="A", member_id="m", at=NOW)
        with pytest.raises(RuntimeError), grouped(wallet):
            wallet.stamp("A", 3, at=NOW)
            assert wallet.card("A").stamps == 3  # the group sees its own writes
            raise RuntimeError("the commit failed")
        assert other.card("A").stamps == 0
        assert wallet.card("A").stamps == 0  # not the cached card the group left
        assert wallet.stamp("A", 1, at=NOW).card.stamps == 1  # and the wallet goes on
        with grouped(wallet):  # a failing call alone does not break the group
            with pytest.raises(UnknownCard):
                wallet.stamp("NOPE", 1, at=NOW)
            wallet.stamp("A", 1, at=NOW)
        assert other.card("A").stamps == 2


def test_a_group_whose_transaction_sqlite_gave_up_commits_nothing(url: str) -> None:
    with _open(url) as wallet, _open(url) as other:
        wallet.issue_card("code", serial="A", member_id="m", at=NOW)
        with pytest.raises(DatabaseUnavailable), grouped(wallet):
            wallet.stamp("A", 2, at=NOW)
            wallet._db._conn.execute("ROLLBACK")  # what SQLite does itself on a full disk
            with pytest.raises(DatabaseUnavailable):
                wallet.stamp("A", 1, at=NOW)
        assert other.card("A").stamps == 0 and wallet.card("A").stamps == 0


def test_call_threads_keep_order_pass_exceptions_and_group_what_waits() -> None:
    groups: list[list[int]] = []
    ran: list[int] = []

    @contextmanager
    def group() -> Iterator[None]:
        start = len(ran)
        yield
        groups.append(ran[start:])
        if 21 in ran[start:]:
            raise RuntimeError("commit failed")

    calls = CallThreads(1, group=group, failed=lambda exc: f"failed: {exc}")
    gates = {0: threading.Event(), 20: threading.Event()}

    def step(n: int) -> int:
        ran.append(n)
        if n in gates:
            gates[n].wait(10)  # the next calls queue up behind this one
        if n == 5:
            raise ValueError("five")
        return n

    async def phase(blocker: int, queued: tuple[int, ...]) -> list[Any]:
        first = asyncio.ensure_future(calls.run(lambda: step(blocker)))
        await asyncio.sleep(0.2)
        rest = [asyncio.ensure_future(calls.run(lambda n=n: step(n))) for n in queued]
        await asyncio.sleep(0.2)
        gates[blocker].set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    async def main() -> tuple[list[Any], list[Any]]:
        return await phase(0, (4, 5, 6, 7)), await phase(20, (21, 22, 23))

    try:
        done, failed = asyncio.run(main())
    finally:
        calls.close()
    assert ran == [0, 4, 5, 6, 7, 20, 21, 22, 23]  # in arrival order, on one thread
    assert groups == [[4, 5, 6, 7], [21, 22, 23]]  # what waited ran as one group; a lone call alone
    assert done[:2] == [0, 4] and done[3:] == [6, 7]
    assert isinstance(done[2], ValueError)  # one call's exception reaches its own caller only
    assert failed == [20] + ["failed: commit failed"] * 3  # a group that cannot commit: none happened


@pytest.fixture
def served(url: str, server_cert: tuple[Path, Path]) -> Iterator[tuple[str, WalletPerThread]]:
    wallets = WalletPerThread(url, programs=PROGRAMS, random=secrets.token_bytes)
    service = PassWebService(pass_type_identifier="pass.x", store=StorePassUpdates(wallets),
                             tokens=PassTokens(b"s" * 32), render=lambda state: b"")
    till = TillApi(wallets, random=secrets.token_bytes, rate=RateLimit(per_second=1e6, burst=1e6))
    certfile, keyfile = server_cert
    try:
        with UvicornThread(create_app(service, till=till), certfile=certfile, keyfile=keyfile) as server:
            yield server.url, wallets
    finally:
        wallets.close()


def test_many_clients_at_once_each_get_their_own_answer(
    served: tuple[str, WalletPerThread], trust: ssl.SSLContext, url: str
) -> None:
    base, _ = served
    with _open(url) as wallet:
        token = key(wallet)
        for n in range(8):
            wallet.issue_card("code", serial=f"C-{n}", member_id="m", at=NOW)
    requests: list[tuple[str, dict[str, Any], int]] = []
    for n in range(64):
        if n % 8 == 7:
            requests.append(("/api/v1/cards/NOPE/stamps", {"count": 1}, 404))
        elif n % 8 == 6:
            requests.append((f"/api/v1/cards/C-{n % 8}/stamps", {"count": 0}, 422))
        else:
            requests.append((f"/api/v1/cards/C-{n % 8}/stamps", {"count": 1}, 200))

    async def main() -> list[int]:
        auth = {"authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base, verify=trust, timeout=30, headers=auth) as client:
            answers = await asyncio.gather(*(client.post(path, json=body) for path, body, _ in requests))
        return [answer.status_code for answer in answers]

    assert asyncio.run(main()) == [expected for _, _, expected in requests]
    with _open(url) as wallet:
        assert [wallet.card(f"C-{n}").stamps for n in range(8)] == [8] * 6 + [0, 0]


def test_a_revoked_key_is_refused_at_once_by_the_running_server(
    served: tuple[str, WalletPerThread], trust: ssl.SSLContext, url: str
) -> None:
    base, _ = served
    with _open(url) as wallet:
        token = key(wallet)
        wallet.issue_card("code", serial="A", member_id="m", at=NOW)
    auth = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, verify=trust, timeout=20, headers=auth) as client:
        for _ in range(3):  # the server's wallet is warm
            assert client.post("/api/v1/cards/A/stamps", json={"count": 1}).status_code == 200
        with _open(url) as wallet:  # as `walletvoucher api-key revoke till-1` does, from another process
            assert wallet.access.revoke("api_key", "till-1", at=NOW)
        started = time.monotonic()
        assert client.post("/api/v1/cards/A/stamps", json={"count": 1}).status_code == 401
        assert time.monotonic() - started < 5


def test_a_key_is_remembered_a_second_at_most_and_never_past_another_connection_s_commit(url: str) -> None:
    wallets = WalletPerThread(url, programs=PROGRAMS, random=secrets.token_bytes)
    try:
        mine = wallets()  # the wallet the API uses on this thread
        token = key(mine)
        mine.issue_card("code", serial="A", member_id="m", at=NOW)
        api = TillApi(wallets, random=secrets.token_bytes, rate=RateLimit(per_second=1e6, burst=1e6))

        def stamp(at: datetime) -> int:
            return api.handle(_request(token, "/api/v1/cards/A/stamps", {"count": 1}), at=at).status

        assert stamp(NOW) == 200
        with _open(url) as other:  # another connection, as `walletvoucher api-key revoke` is
            assert other.access.revoke("api_key", "till-1", at=NOW)
        assert stamp(NOW) == 401  # at once, though the key was checked a moment ago
        second = key(mine, "till-2")
        token = second
        assert stamp(NOW) == 200
        mine.access.revoke("api_key", "till-2", at=NOW)  # through the API's own connection
        assert stamp(NOW + timedelta(seconds=2)) == 401  # the key was remembered a second at most
    finally:
        wallets.close()


def test_the_store_gets_one_thread_on_sqlite_and_eight_on_postgresql_where_nothing_is_grouped(
    engine: str, db_url: str
) -> None:
    wallets = WalletPerThread(db_url, programs=PROGRAMS, random=secrets.token_bytes)
    try:
        api = TillApi(wallets, random=secrets.token_bytes)
        assert api.store_threads() == (1 if engine == "sqlite" else 8)  # known without connecting
        wallet = wallets()
        wallet.issue_card("code", serial="A", member_id="m", at=NOW)
        with _open(db_url) as other, api.grouped():
            wallet.stamp("A", 1, at=NOW)
            seen = other.card("A").stamps  # PostgreSQL: committed at once; SQLite: at the group's end
        assert seen == (0 if engine == "sqlite" else 1)
        with _open(db_url) as other:
            assert other.card("A").stamps == 1
    finally:
        wallets.close()
