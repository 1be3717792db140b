"""The sealed records. No foreign keys: this package sits below every domain it seals (a round's id is
an integer here), and a sealed record outlives whatever was deleted behind the service's back."""

from piccolo.columns import Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


class SealedState(Table):
    """One round's sealed record (seals/service.py): the values its published figures depend on, as
    the service last wrote them, with an HMAC under the state key (core/keys.py). Written by the code
    that changes those values, in the same transaction; `survey-service verify` compares it with the
    tables and names each difference."""

    id: Serial  # added by Piccolo; declared for the type checker only
    survey = Integer(unique=True)
    # JSON: {part: {name: value}}, parts as seals.service.PARTS
    state = Text(default="{}")
    # Counts every sealing: a checkpoint records it, so an older record put back is named.
    version = Integer(default=0)
    key_id = Varchar(length=16, default="")
    mac = Varchar(length=64, default="")
    sealed_at = Timestamptz()


class ChainSwitch(Table):
    """Where the answers' hash chain of a database from before the chain key ends: the responses up to
    `unkeyed_through` are linked without the key, and `head` is the chain hash of the last of them.
    Recorded once by `survey-service migrate`, with an HMAC under the chain key."""

    id: Serial  # added by Piccolo; declared for the type checker only
    unkeyed_through = Integer(default=0)
    head = Varchar(length=64, default="")
    key_id = Varchar(length=16, default="")
    mac = Varchar(length=64, default="")
    switched_at = Timestamptz()


class Checkpoint(Table):
    """A signed checkpoint (ledger/checkpoints.py), as printed on a report or workbook."""

    id: Serial  # added by Piccolo; declared for the type checker only
    survey = Integer(index=True)
    answers = Integer(default=0)  # the round's stored answers
    last_id = Integer(default=0)  # the newest response in the chain (every round's)
    head = Varchar(length=64, default="")  # its chain hash
    state_version = Integer(default=0)
    state = Varchar(length=64, default="")  # digest of the round's sealed record
    issued_at = Varchar(length=40, default="")  # ISO 8601 UTC, as signed
    what = Varchar(length=100, default="")
    public_key = Varchar(length=64, default="")
    signature = Varchar(length=128, default="")
