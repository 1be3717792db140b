"""Why a returned questionnaire is not counted (keys of validity.excluded), with Chinese labels."""

EXCLUDED_BY_REVIEW = "excluded_by_review"  # marked not valid by staff after review
NO_RATED_ANSWER = "no_rated_answer"  # every rated item answered 不了解 (or left blank): no y

LABELS = {EXCLUDED_BY_REVIEW: "审核后剔除", NO_RATED_ANSWER: "所有题目均为“不了解”或未答"}
