# Reference values for the 整改清单 test (analysis/improvement.py) from R's survey package.
#
# Run from the repository root:  Rscript tests/reference/make_improvement.R
# Reads the generated school survey that make_reference.R wrote (school_responses.csv,
# school_strata.csv: 5 schools x 4 groups + 2 county groups, 8 items, with a lone
# respondent in a stratum, census strata, a group whose every answer is 认可 and a group
# without known population) and writes improvement_reference.json. The Python tests read
# only that file; they never call R.
#
# For each item (its rated answers, as R's subset of the design):
#   rest of the county without school s  subset(rated, school != s), svyby over groups,
#                                        svycontrast with the default group weights
#                                        renormalised over the groups present
#   the school cell (within the school)  the same on subset(rated, school == s)
#   school cell minus the rest           svyby over (inside, group) jointly, svycontrast
#                                        (+a for the school's groups, -a for the rest's)
#   group g minus the other groups       svyby over groups, svycontrast (1, -a'_h)
# in both designs of make_reference.R (schools as strata; schools as clusters of 12).
suppressMessages({
  library(survey)
  library(jsonlite)
})
options(survey.lonely.psu = "adjust")

out_dir <- "tests/reference"
item_cols <- paste0("item", 1:8)

# The product's "default" group weights: 家长 0.5 when other groups answered too, the
# other groups present share the rest equally (analysis/group_weights.py).
default_weights <- function(present) {
  others <- setdiff(present, "parent")
  if (!("parent" %in% present)) return(setNames(rep(1 / length(present), length(present)), present))
  if (length(others) == 0) return(c(parent = 1))
  c(parent = 0.5, setNames(rep(0.5 / length(others), length(others)), others))
}

combined <- function(by_result, sign = 1, prefix = "") {
  labels <- rownames(as.data.frame(by_result))
  groups <- substring(labels[startsWith(labels, prefix)], nchar(prefix) + 1)
  a <- default_weights(groups)
  full <- setNames(rep(0, length(labels)), labels)
  full[paste0(prefix, names(a))] <- sign * a
  full
}

summary_of <- function(by_result, coefficients) {
  con <- svycontrast(by_result, coefficients)
  list(estimate = unname(coef(con)[1]), se = unname(SE(con)[1]))
}

resp <- read.csv(file.path(out_dir, "school_responses.csv"), na.strings = "", stringsAsFactors = FALSE)
resp$school[is.na(resp$school)] <- ""
strata <- read.csv(file.path(out_dir, "school_strata.csv"), na.strings = "", stringsAsFactors = FALSE)
strata$school[is.na(strata$school)] <- ""
resp$y <- rowMeans(resp[, item_cols], na.rm = TRUE)
counts <- aggregate(respondent ~ school + group, data = resp, FUN = length)
names(counts)[3] <- "n"
resp <- merge(merge(resp, strata, by = c("school", "group")), counts, by = c("school", "group"))
resp <- resp[order(resp$respondent), ]
resp$stratum <- paste(resp$group, resp$school, sep = "@")
resp$w_strata <- ifelse(is.na(resp$population), 1, resp$population / resp$n)
resp$fpc_strata <- ifelse(is.na(resp$population), Inf, pmax(resp$population, resp$n))
dschool <- svydesign(id = ~1, strata = ~stratum, weights = ~w_strata, fpc = ~fpc_strata, data = resp)
schools <- sort(unique(resp$school[resp$school != ""]))
schools_in_county <- 12
resp$top <- ifelse(resp$school == "", paste0("county_", resp$group), "schools")
resp$psu <- ifelse(resp$school == "", paste0("r", resp$respondent), resp$school)
resp$w_clusters <- ifelse(resp$school == "", 1, schools_in_county / length(schools)) * resp$w_strata
resp$fpc_clusters <- ifelse(resp$school == "", resp$fpc_strata, schools_in_county)
dclusters <- svydesign(id = ~psu, strata = ~top, weights = ~w_clusters, fpc = ~fpc_clusters, data = resp)

item_reference <- function(design, joint) {
  out <- list()
  for (j in item_cols) {
    rated <- design[!is.na(design$variables[[j]]), ]
    f <- as.formula(paste0("~", j))
    by_group <- svyby(f, ~group, rated, svymean, covmat = TRUE)
    groups <- list()
    for (g in rownames(as.data.frame(by_group))) {
      others <- setdiff(rownames(as.data.frame(by_group)), g)
      if (length(others) == 0) next
      a <- default_weights(others)
      full <- setNames(rep(0, length(coef(by_group))), names(coef(by_group)))
      full[g] <- 1
      full[names(a)] <- -a
      groups[[g]] <- summary_of(by_group, full)
    }
    by_school <- list()
    for (s in schools) {
      rest <- subset(rated, school != s)
      rest_by <- svyby(f, ~group, rest, svymean, covmat = TRUE)
      entry <- list(rest = summary_of(rest_by, combined(rest_by)))
      if (joint) {
        cell_by <- svyby(f, ~group, subset(rated, school == s), svymean, covmat = TRUE)
        entry$cell <- summary_of(cell_by, combined(cell_by))
        rated$variables$side <- ifelse(rated$variables$school == s, "in.", "out.")
        both <- svyby(f, ~interaction(side, group, sep = ""), rated, svymean, covmat = TRUE)
        entry$difference <- summary_of(both, combined(both, 1, "in.") + combined(both, -1, "out."))
      }
      by_school[[s]] <- entry
    }
    out[[j]] <- list(groups = groups, schools = by_school)
  }
  out
}

writeLines(toJSON(list(schools_in_county = schools_in_county,
                       strata = item_reference(dschool, TRUE),
                       clusters = item_reference(dclusters, FALSE)),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           file.path(out_dir, "improvement_reference.json"))
cat("written to", out_dir, "\n")
