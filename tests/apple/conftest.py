"""Shared fixtures for the Apple Wallet tests: a minted test chain, a signer, options."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.apple.helpers import AT, PASS_TYPE, SCAN_KEY, TEAM
from walletvoucher.apple._options import AppleOptions
from walletvoucher.apple._sign import AppleSigner
from walletvoucher.apple._testchain import TestChain, mint_test_chain


@pytest.fixture(scope="session")
def chain() -> TestChain:
    # Valid long before and after AT so `openssl cms -verify` (which checks against the real
    # clock) accepts it whenever the tests run.
    return mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT,
                           backdate=timedelta(days=3650), valid_for=timedelta(days=3650))


@pytest.fixture(scope="session")
def chain_files(chain: TestChain, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return chain.write(tmp_path_factory.mktemp("chain"))


@pytest.fixture(scope="session")
def signer(chain: TestChain) -> AppleSigner:
    return AppleSigner(pass_type_identifier=PASS_TYPE, team_identifier=TEAM,
                       certificate=chain.certificate, key=chain.key, wwdr=chain.wwdr)



@pytest.fixture
def options() -> AppleOptions:
    return AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM,
                        redeem_link="https://example.com/redeem/{serial}", scan_key=SCAN_KEY)


