"""The Wallet API collections walletvoucher writes to (apart from the REST client, so that building
a save link never imports ``requests`` or ``google-auth``)."""

from __future__ import annotations

import enum


class Resource(enum.Enum):
    """The Wallet API collections walletvoucher writes to."""

    LOYALTY_CLASS = "loyaltyClass"
    LOYALTY_OBJECT = "loyaltyObject"
    OFFER_CLASS = "offerClass"
    OFFER_OBJECT = "offerObject"
