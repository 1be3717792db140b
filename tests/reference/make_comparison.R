# Reference values for the year-over-year comparison (analysis/comparison.py) from R's survey package.
#
# Run from the repository root:  Rscript tests/reference/make_comparison.R
# Writes the generated answers of two rounds (CSV) and R's differences (JSON) into tests/reference/.
# The Python tests (tests/analysis/test_reference_comparison.py) read only these files.
#
# Two rounds of one county, each designed as the product designs a round: every school x group is a
# stratum with its roster population (w = N_h / n_h, fpc N_h), county-level groups one stratum each
# (人大代表/政协委员 with a population, 其他群众 without). The rounds are stacked with the round in the
# strata, so each round keeps its own strata and the two are independent; the difference of a
# domain's estimate is svycontrast() of svyby(..., ~round + group, covmat = TRUE): for the combined
# figures (overall, a school, an item) each round's groups weighted as the product weighs them
# (家长 0.5, the other groups present share 0.5), for a group simply current − previous. The test is
# two-sided on degf() of the stacked design restricted to the domain.
suppressMessages({
  library(survey)
  library(jsonlite)
})
options(survey.lonely.psu = "adjust")

out_dir <- "tests/reference"
set.seed(20250301)
group_names <- c("student", "parent", "teacher", "principal", "deputy", "public")
rounds <- c("previous", "current")
n_items <- 6
item_cols <- paste0("item", seq_len(n_items))

schools <- data.frame(school = sprintf("S%02d", 1:6))
write.csv(schools, file.path(out_dir, "comparison_schools.csv"), row.names = FALSE)

# Per round and stratum: population (rosters change a little from year to year), respondents, and the
# chance of 认可 (the current round higher overall, S02 much higher, S05 lower).
make_strata <- function(round, shift) {
  rows <- list()
  for (k in seq_len(nrow(schools))) {
    s <- schools$school[k]
    bump <- shift + if (s == "S02" && round == "current") 0.12 else if (s == "S05" && round == "current") -0.08 else 0
    rows[[k]] <- data.frame(
      round = round, school = s, group = c("student", "parent", "teacher", "principal"),
      population = c(400 + 60 * k, 360 + 50 * k, 20 + 3 * k, 1) + if (round == "current") c(12, 9, 1, 0) else 0,
      n = c(22 + 2 * k, 28 + 3 * k, 5 + k %% 3, 1),
      rate = pmin(c(0.82, 0.78, 0.84, 0.9) + bump, 0.98))
  }
  rows[[length(rows) + 1]] <- data.frame(
    round = round, school = "", group = c("deputy", "public"),
    population = c(60, NA), n = c(14, 36), rate = c(0.86, 0.76) + shift)
  do.call(rbind, rows)
}
strata <- rbind(make_strata("previous", 0), make_strata("current", 0.05))
write.csv(strata[, c("round", "school", "group", "population")], file.path(out_dir, "comparison_strata.csv"),
          row.names = FALSE, na = "")

rows <- list()
for (k in seq_len(nrow(strata))) {
  s <- strata[k, ]
  answers <- matrix(rbinom(s$n * n_items, 1, s$rate), nrow = s$n)
  unknown <- matrix(runif(s$n * n_items) < 0.1, nrow = s$n)
  unknown[, 1] <- FALSE  # every respondent rates at least one item
  answers[unknown] <- NA
  colnames(answers) <- item_cols
  rows[[k]] <- data.frame(round = s$round, school = s$school, group = s$group, answers)
}
resp <- do.call(rbind, rows)
resp$respondent <- seq_len(nrow(resp))
resp <- resp[, c("respondent", "round", "school", "group", item_cols)]
write.csv(resp, file.path(out_dir, "comparison_responses.csv"), row.names = FALSE, na = "")

resp$y <- rowMeans(resp[, item_cols], na.rm = TRUE)
resp <- merge(resp, strata[, c("round", "school", "group", "population", "n")], by = c("round", "school", "group"))
resp <- resp[order(resp$respondent), ]
resp$stratum <- paste(resp$round, resp$group, resp$school, sep = "@")
resp$w <- ifelse(is.na(resp$population), 1, resp$population / resp$n)
resp$fpc <- ifelse(is.na(resp$population), Inf, pmax(resp$population, resp$n))
stacked <- svydesign(id = ~1, strata = ~stratum, weights = ~w, fpc = ~fpc, data = resp)

# The product's default group weights over the groups present: 家长 0.5, the others share 0.5.
default_weights <- function(present) {
  others <- setdiff(present, "parent")
  a <- setNames(rep(0, length(present)), present)
  if ("parent" %in% present && length(others) > 0) {
    a["parent"] <- 0.5
    a[others] <- 0.5 / length(others)
  } else {
    a[] <- 1 / length(present)
  }
  a
}

difference <- function(design, formula, combine = TRUE) {
  by <- svyby(formula, ~round + group, design, svymean, covmat = TRUE)
  labels <- rownames(as.data.frame(by))
  parts <- do.call(rbind, strsplit(labels, ".", fixed = TRUE))
  coef_round <- function(r) {
    a <- setNames(rep(0, length(labels)), labels)
    inside <- parts[, 1] == r
    a[inside] <- default_weights(parts[inside, 2])
    a
  }
  now <- svycontrast(by, coef_round("current"))
  before <- svycontrast(by, coef_round("previous"))
  diff <- svycontrast(by, coef_round("current") - coef_round("previous"))
  d <- unname(coef(diff)[1])
  se <- unname(SE(diff)[1])
  df <- degf(design)
  list(current = unname(coef(now)[1]), previous = unname(coef(before)[1]),
       difference = d, se = se, df = df, p_value = 2 * pt(-abs(d / se), df),
       ci_low = d - qt(0.975, df) * se, ci_high = d + qt(0.975, df) * se)
}

group_difference <- function(g) {
  design <- subset(stacked, group == g)
  by <- svyby(~y, ~round, design, svymean, covmat = TRUE)
  diff <- svycontrast(by, c(current = 1, previous = -1)[rownames(as.data.frame(by))])
  d <- unname(coef(diff)[1])
  se <- unname(SE(diff)[1])
  df <- degf(design)
  list(current = unname(coef(by)["current"]), previous = unname(coef(by)["previous"]),
       difference = d, se = se, df = df, p_value = 2 * pt(-abs(d / se), df))
}

reference <- list(
  level = 0.95,
  changed_items = list("item6"),  # the tests give item6 a new wording in the current round
  overall = difference(stacked, ~y),
  groups = lapply(setNames(nm = group_names), group_difference),
  schools = lapply(setNames(nm = schools$school), function(s) difference(subset(stacked, school == s), ~y)),
  items = lapply(setNames(nm = item_cols), function(j) {
    rated <- stacked[!is.na(stacked$variables[[j]]), ]
    difference(rated, as.formula(paste0("~", j)))
  })
)
writeLines(toJSON(reference, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           file.path(out_dir, "comparison_reference.json"))
cat("written to", out_dir, "\n")
