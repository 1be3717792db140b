# Reference values for tests/analysis from R's survey package.
#
# Run from the repository root:  Rscript tests/reference/make_reference.R
# Writes the input data (CSV) and R's results (JSON) into tests/reference/.
# The Python tests read only these files; they never call R.
#
# Data sets:
#   apistrat  svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc)
#   apiclus1  svydesign(id=~dnum, weights=~pw, fpc=~fpc)
#   school_*  generated school survey (5 schools x 4 groups + 2 county-level
#             groups) with edge cases: a lone respondent in a stratum
#             (lonely.psu = "adjust"), a group where every answer is 认可
#             (deputy), census strata (n = N: teachers of S02, every
#             principal), strata with more respondents than population
#             (parents of S04, principals of S05: weights sum below n),
#             a group without known population (public: no fpc).
suppressMessages({
  library(survey)
  library(jsonlite)
})
options(survey.lonely.psu = "adjust")

out_dir <- "tests/reference"
methods <- c("logit", "beta", "mean", "xlogit", "asin")
group_names <- c("student", "parent", "teacher", "principal", "deputy", "public")

# ---------------------------------------------------------------- helpers

mean_summary <- function(formula, design, level = 0.95) {
  m <- svymean(formula, design, deff = TRUE)
  m_replace <- suppressWarnings(svymean(formula, design, deff = "replace"))
  list(
    estimate = unname(coef(m)[1]),
    se = unname(SE(m)[1]),
    var = unname(vcov(m)[1, 1]),
    deff = unname(suppressWarnings(deff(m))[1]),
    deff_replace = unname(deff(m_replace)[1]),
    df = degf(design),
    n = nrow(design),
    weight_sum = sum(weights(design))
  )
}

ciprop_summary <- function(formula, design, level = 0.95) {
  out <- mean_summary(formula, design, level)
  out$level <- level
  out$ci <- list()
  for (method in methods) {
    r <- suppressWarnings(svyciprop(formula, design, method = method, level = level))
    out$ci[[method]] <- list(
      estimate = unname(as.numeric(r)[1]),
      low = unname(attr(r, "ci")[1]),
      high = unname(attr(r, "ci")[2])
    )
  }
  out
}

contrast_summary <- function(by_result, weights) {
  present <- intersect(names(weights), rownames(as.data.frame(by_result)))
  a <- weights[present] / sum(weights[present])
  full <- setNames(rep(0, length(coef(by_result))), names(coef(by_result)))
  full[present] <- a
  con <- svycontrast(by_result, full)
  list(estimate = unname(coef(con)[1]), se = unname(SE(con)[1]),
       var = unname(vcov(con)[1, 1]), weights = as.list(a))
}

write_json_file <- function(x, name) {
  writeLines(toJSON(x, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
             file.path(out_dir, name))
}

# ---------------------------------------------------------------- api data

data(api)
# apistrat's pw is fpc / n_h stored in single precision (44.2099990844727 for 44.21);
# the library's weights are N_h / n_h exactly, so the reference uses those. The
# published values (662.29, SE 9.4089; 0.827948, SE 0.0243448) agree at their digits.
stratum_n <- table(apistrat$stype)[as.character(apistrat$stype)]
apistrat_out <- data.frame(
  snum = apistrat$snum, stype = apistrat$stype, pw = apistrat$fpc / as.vector(stratum_n),
  fpc = apistrat$fpc,
  api00 = apistrat$api00, sch_wide = as.integer(apistrat$sch.wide == "Yes"))
write.csv(apistrat_out, file.path(out_dir, "apistrat.csv"), row.names = FALSE)
apiclus1_out <- data.frame(
  snum = apiclus1$snum, dnum = apiclus1$dnum, pw = apiclus1$pw, fpc = apiclus1$fpc,
  api00 = apiclus1$api00, sch_wide = as.integer(apiclus1$sch.wide == "Yes"))
write.csv(apiclus1_out, file.path(out_dir, "apiclus1.csv"), row.names = FALSE)

dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat_out)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1_out)
api <- list(
  apistrat = list(
    api00 = mean_summary(~api00, dstrat),
    sch_wide = ciprop_summary(~sch_wide, dstrat),
    sch_wide_90 = ciprop_summary(~sch_wide, dstrat, level = 0.90),
    sch_wide_by_stype = lapply(setNames(nm = c("E", "H", "M")), function(s)
      ciprop_summary(~sch_wide, subset(dstrat, stype == s)))
  ),
  apiclus1 = list(
    api00 = mean_summary(~api00, dclus1),
    sch_wide = ciprop_summary(~sch_wide, dclus1)
  )
)
write_json_file(api, "api_reference.json")

# ---------------------------------------------------------------- school survey

set.seed(20240615)
schools <- data.frame(
  school = c("S01", "S02", "S03", "S04", "S05"),
  location = c("城区", "镇区", "乡村", "乡村", "城区"),
  stage = c("小学", "初中", "小学", "九年一贯制", "完全中学"))
strata <- rbind(
  data.frame(school = "S01", group = c("student", "parent", "teacher", "principal"),
             population = c(620, 540, 42, 1), n = c(36, 44, 9, 1), rate = c(.88, .80, .90, 1)),
  data.frame(school = "S02", group = c("student", "parent", "teacher", "principal"),
             population = c(480, 450, 8, 1), n = c(30, 38, 8, 1), rate = c(.82, .76, .85, .9)),
  data.frame(school = "S03", group = c("student", "parent", "teacher", "principal"),
             population = c(150, 140, 12, 1), n = c(24, 30, 6, 1), rate = c(.93, .88, .80, .7)),
  data.frame(school = "S04", group = c("student", "parent", "teacher", "principal"),
             population = c(300, 10, 25, 1), n = c(28, 14, 7, 1), rate = c(.78, .70, .75, .9)),
  data.frame(school = "S05", group = c("student", "parent", "teacher", "principal"),
             population = c(900, 800, 30, 1), n = c(40, 52, 1, 2), rate = c(.86, .83, .80, .95)),
  data.frame(school = "", group = c("deputy", "public"),
             population = c(40, NA), n = c(12, 40), rate = c(1, .80)))
write.csv(strata[, c("school", "group", "population")], file.path(out_dir, "school_strata.csv"),
          row.names = FALSE, na = "")
write.csv(schools, file.path(out_dir, "school_schools.csv"), row.names = FALSE, fileEncoding = "UTF-8")

n_items <- 8
rows <- list()
for (k in seq_len(nrow(strata))) {
  s <- strata[k, ]
  answers <- matrix(rbinom(s$n * n_items, 1, s$rate), nrow = s$n)
  unknown <- matrix(runif(s$n * n_items) < 0.12, nrow = s$n)
  unknown[, 1] <- FALSE  # every respondent rates at least one item
  answers[unknown] <- NA
  colnames(answers) <- paste0("item", seq_len(n_items))
  rows[[k]] <- data.frame(school = s$school, group = s$group, answers)
}
resp <- do.call(rbind, rows)
resp$respondent <- seq_len(nrow(resp))
resp <- resp[, c("respondent", "school", "group", paste0("item", seq_len(n_items)))]
write.csv(resp, file.path(out_dir, "school_responses.csv"), row.names = FALSE, na = "")

item_cols <- paste0("item", seq_len(n_items))
resp$y <- rowMeans(resp[, item_cols], na.rm = TRUE)
resp <- merge(resp, strata[, c("school", "group", "population", "n")], by = c("school", "group"))
resp <- resp[order(resp$respondent), ]
resp$stratum <- paste(resp$group, resp$school, sep = "@")

default_weights <- c(parent = 0.5, student = 0.1, teacher = 0.1, principal = 0.1,
                     deputy = 0.1, public = 0.1)

school_summary <- function(design) {
  groups <- lapply(setNames(nm = group_names), function(g)
    ciprop_summary(~y, subset(design, group == g)))
  by_group <- svyby(~y, ~group, design, svymean, covmat = TRUE)
  overall <- contrast_summary(by_group, default_weights)
  overall$df <- degf(design)
  overall$n <- nrow(design)
  items <- list()
  for (j in item_cols) {
    rated <- design[!is.na(design$variables[[j]]), ]
    f <- as.formula(paste0("~", j))
    items[[j]] <- list(
      groups = lapply(setNames(nm = group_names), function(g)
        ciprop_summary(f, subset(rated, group == g))),
      overall = contrast_summary(svyby(f, ~group, rated, svymean, covmat = TRUE),
                                 default_weights))
  }
  list(groups = groups, overall = overall, items = items)
}

# Schools as strata: every school x group (and county-level group) is a stratum,
# w = N_h / n_h; a stratum with more respondents than population is a census.
resp$w_strata <- ifelse(is.na(resp$population), 1, resp$population / resp$n)
resp$fpc_strata <- ifelse(is.na(resp$population), Inf, pmax(resp$population, resp$n))
dschool <- svydesign(id = ~1, strata = ~stratum, weights = ~w_strata, fpc = ~fpc_strata,
                     data = resp)

# Schools as clusters: the 5 schools are a sample of M = 12 schools (first-stage
# fpc); county-level groups are their own strata with respondents as PSUs.
schools_in_county <- 12
resp$top <- ifelse(resp$school == "", paste0("county_", resp$group), "schools")
resp$psu <- ifelse(resp$school == "", paste0("r", resp$respondent), resp$school)
resp$w_clusters <- ifelse(resp$school == "", 1, schools_in_county / nrow(schools)) * resp$w_strata
resp$fpc_clusters <- ifelse(resp$school == "", resp$fpc_strata, schools_in_county)
dclusters <- svydesign(id = ~psu, strata = ~top, weights = ~w_clusters, fpc = ~fpc_clusters,
                       data = resp)

write_json_file(list(schools_in_county = schools_in_county,
                     group_weights = as.list(default_weights),
                     strata = school_summary(dschool),
                     clusters = school_summary(dclusters)),
                "school_reference.json")
cat("written to", out_dir, "\n")
