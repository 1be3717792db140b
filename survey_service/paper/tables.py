"""The paper forms of a round: the numbers issued, each form's state, and every entry made of it (the
audit: who entered what, when)."""

from piccolo.columns import JSON, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table

from survey_service.distribution.tables import Link
from survey_service.surveys.tables import Survey


class PaperBatch(Table):
    """Form numbers issued together for one link (a school × group), `first` to `last`: printed at
    once, and printed again with the same numbers."""

    id: Serial  # added by Piccolo; declared for the type checker only
    survey = ForeignKey(references=Survey, index=True)
    link = ForeignKey(references=Link)
    first = Integer()
    last = Integer()
    issued_by = Varchar(length=64)
    issued_at = Timestamptz()


class PaperForm(Table):
    """One numbered paper form once it has been entered: its state in double entry."""

    id: Serial  # added by Piccolo; declared for the type checker only
    survey = ForeignKey(references=Survey, index=True)
    link = ForeignKey(references=Link)
    serial = Integer()  # the form's number within its link: WQ01-家长-0007 is 7
    # entered (once) | mismatch (two entries differ) | accepted (two entries agree) | resolved (a third
    # look settled the differences). Only accepted and resolved forms are stored as answers.
    status = Varchar(length=16)
    # The stored answer's key (Response.nonce), once it is stored.
    response_key = Varchar(length=64, null=True, default=None)


class PaperEntry(Table):
    """One entry of a form, never changed or deleted: pass 1 and 2 are the double entry, pass 3 the
    values chosen at the third look."""

    id: Serial  # added by Piccolo; declared for the type checker only
    form = ForeignKey(references=PaperForm, index=True)
    pass_number = Integer()
    # {item id: option code, or the text written; "" where the form was left blank}
    answers = JSON()
    actor = Varchar(length=64)  # the console account's username
    entered_at = Timestamptz()
    # The entry page's one-time key (unique, INDEXES): a save clicked twice, or sent again from the back
    # button, stores one entry, never a "second pass" identical to the first.
    entry_key = Varchar(length=32, null=True, default=None)


# Indexes no column declaration can say (several columns), as the statements that create them; the
# app's initial migration creates a copy. The database itself refuses a second form with one number,
# a second entry of one pass (two people entering the second pass at the same moment), and a batch
# overlapping another's start.
INDEXES = {
    "paper_form_number": "CREATE UNIQUE INDEX paper_form_number ON paper_form (link, serial)",
    "paper_entry_pass": "CREATE UNIQUE INDEX paper_entry_pass ON paper_entry (form, pass_number)",
    "paper_batch_first": "CREATE UNIQUE INDEX paper_batch_first ON paper_batch (link, first)",
    "paper_entry_key": "CREATE UNIQUE INDEX paper_entry_key ON paper_entry (entry_key)",
}
