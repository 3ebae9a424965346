# The plain-language explanations (English): `govledger scorecard`, the
# GraphQL scorecard's explanation and the "how it was computed" column of
# reports. Keep zh-CN/explain.ftl holding the same messages.
# $plural is "one" or "other", chosen by the caller from the count.

## Durations and money
explain-seconds = { $s } s
explain-about-minutes = { $s } s (about { $x } minutes)
explain-about-hours = { $s } s (about { $x } hours)
explain-about-days = { $s } s (about { $x } days)
explain-money = { $fen } fen (¥{ $yuan })

## What each indicator counted
explain-p90 = { $n } { $answered }; sorted by latency, the one at nearest rank { $rank } = ceil(0.9 × { $n }) took { $took }
explain-not-applicable = not applicable: { $why }
explain-task = { $num } of { $den } tasks assigned to it by a coordinator or acknowledged by it, and due in the period (by the assessment clock), were completed by their deadline ({ $pct })
explain-task-none = no task assigned to it by a coordinator or acknowledged by it fell due in the period
explain-meeting = it attended { $num } of { $den } joint meetings convened by a coordinator that it was invited to and that were held in the period ({ $pct })
explain-meeting-none = no meeting convened by a coordinator that it was invited to was held in the period
explain-freeze = { $num } of { $den } freeze requests received in the period were executed ({ $pct })
explain-freeze-none = it received no freeze request in the period
explain-freeze-p90-answered = freeze requests received in the period were answered (executed or rejected)
explain-freeze-p90-none = none of the freeze requests received in the period has been answered
explain-clue = { $num } of { $den } clues referred to it in the period received its feedback ({ $pct })
explain-clue-none = no clue was referred to it in the period
explain-clue-p90-answered = clues referred to it in the period have its feedback
explain-clue-p90-none = no clue referred to it in the period has feedback yet
explain-dissuasion = { $num } of { $den } early warnings issued to it in the period have a dissuasion record ({ $pct })
explain-dissuasion-none = no early warning was issued to it in the period
explain-loss = funds returned on the freezes it requested in the period total { $returned } against { $lost } lost in the cases it reported in the period (ratio { $ratio })
explain-loss-none = it reported no case with a loss in the period
explain-cards = { $n } { $plural ->
    [one] card-breaking action
   *[other] card-breaking actions
} in the period disposed of { $total } bank cards, phone cards and internet accounts

## How the value became points
explain-left-out = left out, and the remaining weights are renormalised
explain-rate-rule = 100 × { $value } = { $points } points
explain-latency-good = at or below { $good } s earns 100 → { $points } points
explain-latency-bad = at or above { $bad } s earns 0 → { $points } points
explain-latency-rule = 100 × ({ $bad } − { $value }) / ({ $bad } − { $good }) = { $points } points
explain-target-rule = 100 × min(1, { $value } / { $target }) = { $points } points
explain-how = { $counted }; { $scored }.
explain-points = { $points } points
explain-weight = { $rule }, weight { $weight } of { $total }

## The scorecard
explain-title = Scorecard of { $id } ({ $name }, { $kind })
explain-where = Period { $from } to { $to } (end excluded), as of ledger seq { $seq } (event hash { $hash }), model sha256 { $model }
explain-score = Score { $score } (grade { $grade }), rank { $rank } of { $ranked } ranked agencies.
explain-no-score = No score: none of the model's indicators for a { $kind } agency has a value in this period, so it is not ranked.
explain-indicators = Indicators:
explain-indicator = - { $name }: { $counted }; { $scored }.
explain-evidence = ({ $n } { $plural ->
    [one] evidence event
   *[other] evidence events
}; `govledger assess --format json` lists their ids)
explain-weighted = Weighted score: Σ weight × points / Σ weight over the { $n } indicators with a value (total weight { $total }) = { $weighted }.
explain-weighted-none = Weighted score: none (no indicator has a value).
explain-deductions-none = Deductions: none (no unrevoked penalty imposed in the period).
explain-deductions = Deductions: { $points } points for { $n } { $plural ->
    [one] penalty
   *[other] penalties
} imposed in the period and not revoked:
explain-penalty = - { $kind } on { $at } (event { $event }): −{ $deduction }
explain-band = {" "}({ $min } or more)
explain-final = Score: clamp({ $weighted } − { $deductions }, 0, 100) = { $score } → grade { $grade }{ $band }.

## The ranking table of `govledger assess --format table`
explain-table-where = period { $from } to { $to } (end excluded), as of seq { $seq } (hash { $hash }), model sha256 { $model }
