"""Review of flagged answers: the bureau excludes or reinstates with a written reason, and every
decision goes to an audit log (who, when, what, why)."""
