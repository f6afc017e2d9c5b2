"""Apple Wallet: stamp cards and Smart Vouchers as signed ``.pkpass`` bundles.

Recipe layer::

    signer = load_apple_signer(p12="Certificates.p12", password=..., wwdr="AppleWWDRCAG4.cer",
                               pass_type_identifier="pass.com.example.loyalty",
                               team_identifier="ABCDE12345", at=now)
    options = AppleOptions(pass_type_identifier=..., team_identifier=...,
                           redeem_link="https://example.com/redeem/{serial}", scan_key=scan_key)
    Path("card.pkpass").write_bytes(render_pkpass(card, signer=signer, options=options, at=now))
    verify_pkpass("card.pkpass", ca=[root]).raise_for_problems()   # a path or the bytes

Low level: ``build_pass_json`` (the dict), ``check_pass_json`` (the rules),
``build_manifest`` / ``sign_manifest`` / ``zip_bundle`` (the bundle), ``strip_images``.
Speed: ``sign_manifest_at`` (the signature around the signer's cached DER parts, signing
time ``at``) and ``EntryCache`` (each distinct file hashed and compressed once); many passes
at once: :func:`walletvoucher.batch.render_many`.
"""

from walletvoucher.apple._bundle import build_manifest, zip_bundle
from walletvoucher.apple._cms import sign_manifest_at
from walletvoucher.apple._images import (
    PRIMARY_BAND,
    STRIP_SIZES,
    StripDesign,
    is_compact,
    safe_area,
    stamp_area,
    stamp_layout,
    strip_images,
)
from walletvoucher.apple._options import AppleOptions, Location
from walletvoucher.apple._passjson import (
    BARCODE_FORMATS,
    PassContent,
    build_pass_content,
    build_pass_json,
    w3c_date,
)
from walletvoucher.apple._pieces import EntryCache
from walletvoucher.apple._render import RenderedPass, render_pass, render_pkpass
from walletvoucher.apple._rules import Problem, check_pass_json, validate_pass_json
from walletvoucher.apple._sign import AppleSigner, sign_manifest
from walletvoucher.apple._strings import apple_language, render_pass_strings
from walletvoucher.apple._testchain import TestChain, mint_test_chain
from walletvoucher.apple._verify import VerifyReport, verify_pkpass
from walletvoucher.keys import load_apple_signer

__all__ = [
    "BARCODE_FORMATS",
    "PRIMARY_BAND",
    "STRIP_SIZES",
    "AppleOptions",
    "AppleSigner",
    "EntryCache",
    "Location",
    "PassContent",
    "Problem",
    "RenderedPass",
    "StripDesign",
    "TestChain",
    "VerifyReport",
    "apple_language",
    "build_manifest",
    "build_pass_content",
    "build_pass_json",
    "check_pass_json",
    "is_compact",
    "load_apple_signer",
    "mint_test_chain",
    "render_pass",
    "render_pass_strings",
    "render_pkpass",
    "safe_area",
    "sign_manifest",
    "sign_manifest_at",
    "stamp_area",
    "stamp_layout",
    "strip_images",
    "validate_pass_json",
    "verify_pkpass",
    "w3c_date",
    "zip_bundle",
]
