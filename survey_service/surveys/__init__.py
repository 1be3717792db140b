"""Survey rounds (调查轮次): window, target, group weights, questionnaire per group."""
