"""walletvoucher: stamp cards and Smart Vouchers for Apple Wallet and Google Wallet."""

from walletvoucher.errors import WalletVoucherError

__all__ = ["WalletVoucherError"]
__version__ = "0.1.0"
