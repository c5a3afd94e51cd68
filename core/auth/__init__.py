"""Who a request is from: local accounts, Supabase access tokens, or the one local user."""

from core.auth.accounts import Account, AccountStore, PostgresAccountStore, SqliteAccountStore
from core.auth.authenticators import Authenticator, LocalAccountsAuth, OpenAccess, SupabaseAuth
from core.auth.identity import Identity
from core.auth.supabase import SupabasePasswordLogin, SupabaseTokenVerifier

__all__ = [
    "Account",
    "AccountStore",
    "Authenticator",
    "Identity",
    "LocalAccountsAuth",
    "OpenAccess",
    "PostgresAccountStore",
    "SqliteAccountStore",
    "SupabaseAuth",
    "SupabasePasswordLogin",
    "SupabaseTokenVerifier",
]
