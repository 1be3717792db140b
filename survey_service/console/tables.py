from piccolo.columns import ForeignKey, Text
from piccolo.table import Table

from survey_service.surveys.tables import Survey


class KitLetter(Table):
    """The 致家长的一封信 a round's bureau prints on every school's QR page."""

    survey = ForeignKey(references=Survey, unique=True)
    text = Text()
