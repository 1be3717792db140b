"""Everything the console adds to the app: its routes (guarded, with its own error pages, sessions and
CSRF), its static files and the session store. create_app registers these."""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.static_files import create_static_files_router

from survey_service.accounts.session_store import DatabaseStore
from survey_service.console.access_codes import AccessCodesController
from survey_service.console.guards import provide_user
from survey_service.console.login import LoginController
from survey_service.console.national_settings import NationalSettingsController
from survey_service.console.paper import PaperController
from survey_service.console.previous_round import PreviousRoundController
from survey_service.console.results import ResultsController, SchoolResultsController
from survey_service.console.review import ReviewController
from survey_service.console.rounds import ConsoleHomeController, RoundsController
from survey_service.console.schools import RosterController, SchoolPortalController
from survey_service.console.session import CONSOLE_EXCEPTION_HANDLERS, account_middleware
from survey_service.console.suggestions import SuggestionsController
from survey_service.console.wjx_import import WjxImportController
from survey_service.core.settings import Settings
from survey_service.web.errors import STATIC_EXCEPTION_HANDLERS, refuse_impossible_ids

STATIC_DIR = Path(__file__).parent / "static"
NO_STORE = CacheControlHeader(no_store=True)

__all__ = ["NO_STORE", "account_middleware", "console_routes", "session_stores"]


def console_routes(settings: Settings) -> list:
    console = Router(
        path="/console",
        route_handlers=[
            LoginController,
            ConsoleHomeController,
            RoundsController,
            RosterController,
            SchoolPortalController,
            ReviewController,
            ResultsController,
            SchoolResultsController,
            SuggestionsController,
            AccessCodesController,
            PaperController,
            PreviousRoundController,
            NationalSettingsController,
            WjxImportController,
        ],
        dependencies={"user": Provide(provide_user)},
        exception_handlers=CONSOLE_EXCEPTION_HANDLERS,
        middleware=account_middleware(settings),
        # Console pages, results and downloads are the bureau's and the schools': no shared or
        # browser cache keeps them (a handler that sets its own Cache-Control keeps it).
        cache_control=NO_STORE,
        before_request=refuse_impossible_ids,
        include_in_schema=False,
    )
    static = create_static_files_router(
        path="/static/console",
        directories=[STATIC_DIR],
        include_in_schema=False,
        cache_control=None,
        exception_handlers=STATIC_EXCEPTION_HANDLERS,
    )
    return [console, static]


def session_stores() -> dict:
    return {"sessions": DatabaseStore()}
