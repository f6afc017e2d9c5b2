"""Loading certificates and keys: the only module that reads key material from files or bytes.

Apple: pass-type certificates and keys (PEM, PKCS#12) and the WWDR intermediate.
Google: service-account JSON keys.
"""

from __future__ import annotations

# --- Apple signing material (owned by the Apple renderer work) -------------------------------


# --- Google service accounts (owned by the Google renderer work) -----------------------------
