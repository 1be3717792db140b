# Reference values for the 问卷星 export tests (tests/results/test_wjx_analyze.py) from R's survey
# package.
#
# Run from the repository root:  Rscript tests/reference/make_wjx_reference.R
# Writes the answers (wjx_answers.csv: one row per 答卷, the chosen option's text per item, "" for a
# skipped item), the roster (wjx_roster.csv) and R's results (wjx_reference.json). The Python tests
# turn wjx_answers.csv into 问卷星-shaped exports (xlsx, GB18030 and UTF-8 CSV, several header
# variants) and compare `survey-service analyze` with these values; they never call R.
#
# y = the share of 认可 (满意, 比较满意, 基本满意) among a respondent's rated answers (不了解 and
# skipped items left out); a respondent with no rated answer is not counted. Schools are strata:
# every school x group (and county-level group) a stratum, w = N_h / n_h, fpc N_h; 其他群众 has no
# population (no fpc, weight 1). The county figure is the contrast of the group means with the
# default weights (家长 0.5, the other groups sharing 0.5), as in make_reference.R.
suppressMessages({
  library(survey)
  library(jsonlite)
})
options(survey.lonely.psu = "adjust")
out_dir <- "tests/reference"
set.seed(20261127)

labels <- c("满意", "比较满意", "基本满意", "不满意", "不了解")
recognised <- c("满意", "比较满意", "基本满意")
group_names <- c("student", "parent", "teacher", "principal", "deputy", "public")

roster <- data.frame(
  code = c("WJ01", "WJ02", "WJ03", "WJ04"),
  name = c("乌恰县第一小学", "康苏镇中心小学", "吉根乡小学", "乌恰县实验中学"),
  students = c(820, 260, 90, 640),
  parents = c(700, 230, 80, 560),
  teachers = c(52, 20, 9, 48),
  principals = c(2, 1, 1, 2),
  stage = c("小学", "小学", "小学", "初中"),
  location = c("城区", "镇区", "乡村", "城区"))
write.csv(roster, file.path(out_dir, "wjx_roster.csv"), row.names = FALSE, fileEncoding = "UTF-8")

deputies <- 60
strata <- rbind(
  data.frame(school = "WJ01", group = c("student", "parent", "teacher", "principal"),
             population = c(820, 700, 52, 2), n = c(14, 18, 6, 2), rate = c(.90, .82, .88, 1)),
  data.frame(school = "WJ02", group = c("student", "parent", "teacher", "principal"),
             population = c(260, 230, 20, 1), n = c(10, 12, 4, 1), rate = c(.80, .75, .85, .9)),
  data.frame(school = "WJ03", group = c("student", "parent", "teacher", "principal"),
             population = c(90, 80, 9, 1), n = c(8, 9, 3, 1), rate = c(.93, .70, .80, .8)),
  data.frame(school = "WJ04", group = c("student", "parent", "teacher", "principal"),
             population = c(640, 560, 48, 2), n = c(12, 16, 5, 1), rate = c(.86, .84, .78, .95)),
  data.frame(school = "", group = c("deputy", "public"),
             population = c(deputies, NA), n = c(9, 14), rate = c(.95, .72)))

n_items <- 8
rows <- list()
for (k in seq_len(nrow(strata))) {
  s <- strata[k, ]
  pick <- function(p) {
    u <- runif(1)
    if (u < 0.10) return("不了解")
    if (u < 0.14) return("")  # skipped (跳过)
    if (runif(1) < p) return(sample(recognised, 1, prob = c(.5, .3, .2)))
    "不满意"
  }
  answers <- t(replicate(s$n, vapply(seq_len(n_items), function(j) pick(s$rate), "")))
  if (s$n == 1) answers <- matrix(answers, nrow = 1)
  colnames(answers) <- paste0("item", seq_len(n_items))
  rows[[k]] <- data.frame(school = s$school, group = s$group, answers, stringsAsFactors = FALSE)
}
resp <- do.call(rbind, rows)
# One parent who knows nothing of any item (all 不了解): returned, not counted.
resp[resp$school == "WJ02" & resp$group == "parent", paste0("item", 1:n_items)][1, ] <- "不了解"
resp <- resp[sample(nrow(resp)), ]  # answers arrive mixed, as on 问卷星
resp$serial <- seq_len(nrow(resp))
resp$seconds <- sample(60:600, nrow(resp), replace = TRUE)
item_cols <- paste0("item", seq_len(n_items))
write.csv(resp[, c("serial", "school", "group", "seconds", item_cols)], file.path(out_dir, "wjx_answers.csv"),
          row.names = FALSE, fileEncoding = "UTF-8")

rated <- as.matrix(resp[, item_cols]) %in% labels[1:4]
agreed <- as.matrix(resp[, item_cols]) %in% recognised
dim(rated) <- dim(agreed) <- c(nrow(resp), n_items)
resp$y <- ifelse(rowSums(rated) > 0, rowSums(agreed) / rowSums(rated), NA)
invalid <- resp$serial[is.na(resp$y)]
counted <- resp[!is.na(resp$y), ]
counted$stratum <- paste(counted$group, counted$school, sep = "@")
n_h <- table(counted$stratum)[counted$stratum]
counted$population <- strata$population[match(counted$stratum, paste(strata$group, strata$school, sep = "@"))]
counted$w <- ifelse(is.na(counted$population), 1, counted$population / as.vector(n_h))
counted$fpc <- ifelse(is.na(counted$population), Inf, pmax(counted$population, as.vector(n_h)))
design <- svydesign(id = ~1, strata = ~stratum, weights = ~w, fpc = ~fpc, data = counted)

logit_ci <- function(p, se, df, level = 0.95) {
  half <- qt(1 - (1 - level) / 2, max(df, 1)) * se / (p * (1 - p))
  c(plogis(qlogis(p) - half), plogis(qlogis(p) + half))
}

groups <- lapply(setNames(nm = group_names), function(g) {
  d <- subset(design, group == g)
  m <- svymean(~y, d)
  r <- suppressWarnings(svyciprop(~y, d, method = "xlogit"))
  list(estimate = unname(coef(m)[1]), se = unname(SE(m)[1]), n = nrow(d),
       ci_logit = list(low = unname(attr(r, "ci")[1]), high = unname(attr(r, "ci")[2])))
})
weights <- c(parent = 0.5, student = 0.1, teacher = 0.1, principal = 0.1, deputy = 0.1, public = 0.1)
by_group <- svyby(~y, ~group, design, svymean, covmat = TRUE)
a <- setNames(rep(0, length(coef(by_group))), names(coef(by_group)))
a[names(weights)] <- weights / sum(weights)
con <- svycontrast(by_group, a)
p <- unname(coef(con)[1])
se <- unname(SE(con)[1])
ci <- logit_ci(p, se, degf(design))
overall <- list(estimate = p, se = se, df = degf(design), n = nrow(design),
                ci_logit = list(low = ci[1], high = ci[2]))

writeLines(toJSON(list(deputies = deputies, returned = nrow(resp), invalid = I(invalid),
                       groups = groups, overall = overall),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           file.path(out_dir, "wjx_reference.json"))
cat("written to", out_dir, "\n")
