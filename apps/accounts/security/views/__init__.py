from .account import disable, index, logout_everywhere, password_change, recovery_codes, setup
from .login import login, login_code, logout

__all__ = [
    "disable",
    "index",
    "login",
    "login_code",
    "logout",
    "logout_everywhere",
    "password_change",
    "recovery_codes",
    "setup",
]
