"""``softcut tokens list`` and ``softcut tokens revoke ID|--all``: the scoped tokens pairing handed out.

They edit ``<config dir>/tokens.json`` (:class:`~engine_server.tokens.TokenStore`); a running
engine notices within a second, refuses the revoked token's next hello and closes its live
connections.
"""

from __future__ import annotations

import argparse
import time

from core.errors import ParameterError
from engine_server.tokens import Token, TokenFileError, TokenStore
from softcut_app.commands.common import add_common
from softcut_app.console import Console


def _when(seconds: float | None) -> str:
    return "never" if seconds is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def _row(token: Token) -> dict:
    """What ``list`` shows of a token (never its secret)."""
    return {"id": token.id, "scope": token.scope, "client": token.client, "created": token.created,
            "last_used": token.last_used}


def _store() -> TokenStore:
    store = TokenStore()
    try:
        store.refresh()
    except TokenFileError as exc:
        raise ParameterError(str(exc)) from None
    return store


def cmd_tokens_list(args: argparse.Namespace, console: Console) -> int:
    tokens = _store().list()
    lines = [f"{'ID':<18} {'SCOPE':<7} {'CLIENT':<22} {'CREATED':<17} LAST USED"]
    lines += [f"{t.id:<18} {t.scope:<7} {t.client[:22]:<22} {_when(t.created):<17} {_when(t.last_used)}" for t in tokens]
    text = "\n".join(lines) if tokens else "no paired tokens (clients that read the token file need none)"
    console.result({"tokens": [_row(t) for t in tokens]}, text)
    return 0


def cmd_tokens_revoke(args: argparse.Namespace, console: Console) -> int:
    if args.all == (args.id is not None):
        raise ParameterError("tokens revoke: give a token ID (softcut tokens list) or --all, not both")
    store = _store()
    try:
        if args.all:
            revoked = [t.id for t in store.list()]
            store.revoke_all()
        elif store.revoke(args.id):
            revoked = [args.id]
        else:
            raise ParameterError(f"ID: no token {args.id!r}; softcut tokens list shows them")
    except (OSError, TokenFileError) as exc:
        raise ParameterError(f"cannot write {store.path}: {exc}") from None
    console.result({"revoked": revoked}, f"revoked {len(revoked)} token(s){': ' + ', '.join(revoked) if revoked else ''}; "
                                         f"a running engine closes their connections within a second")
    return 0


def add_tokens(sub: argparse._SubParsersAction) -> None:
    """``softcut tokens list|revoke``."""
    tokens = sub.add_parser("tokens", help="list or revoke the tokens paired clients (Photoshop, phones) hold")
    tokens_sub = tokens.add_subparsers(dest="tokens_command", required=True)
    show = tokens_sub.add_parser("list", help="id, scope, client, created, last used (never the secrets)")
    add_common(show, model=False)
    show.set_defaults(func=cmd_tokens_list)
    revoke = tokens_sub.add_parser("revoke", help="revoke a token (its client must pair again)")
    revoke.add_argument("id", nargs="?", metavar="ID", help="the token's id (softcut tokens list)")
    revoke.add_argument("--all", action="store_true", help="revoke every paired token")
    add_common(revoke, model=False)
    revoke.set_defaults(func=cmd_tokens_revoke)
