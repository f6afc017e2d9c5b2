"""The service-account identity that signs save links and asks for OAuth2 tokens.

The type lives in :mod:`walletvoucher._signers` (below the renderers, so key loading builds it
without importing a renderer); it is re-exported here and from :mod:`walletvoucher.google`.
"""

from __future__ import annotations

from walletvoucher._signers import GOOGLE_TOKEN_URI, ServiceAccountCredentials

__all__ = ["GOOGLE_TOKEN_URI", "ServiceAccountCredentials"]
