# The assessment report and the live dashboard (English).

report-title = Assessment report, { $period }
report-heading = Anti-fraud accountability assessment
report-subtitle = Derived from the govledger hash-chained ledger; every figure can be regenerated from it.

## The live dashboard's bar
live-title = Live dashboard
live-from = From
live-to = to
live-dates-note = (dates start at midnight, { $zone }; end excluded)
live-show = Show
live-status = Up to date at seq { $seq }; refreshes as events arrive.
live-reloading = New events (head { $seq }); reloading…
live-reader = Reading as { $agency } ({ $role }).
live-your-agency = Your agency:
live-your-agency-note = (highlighted below). Scores are shared among the members; raw events only with their parties.
live-proven = Proven by checkpoint { $size }, root
live-witnessed = witnessed by { $names }.
live-not-witnessed = not witnessed.
live-short-of-quorum = cosigned by { $names }, short of the quorum: not witnessed.
live-no-checkpoint = No signed checkpoint covers these figures yet; one is signed within seconds.

## Summary
summary = Summary
summary-period = Period
summary-period-instants = { $from } to { $to } (end excluded)
summary-agencies = Agencies
summary-agencies-value = { $total } registered, { $ranked } ranked (the rest had no scorable indicator)
summary-events = Events
summary-events-value = { $seq } events in the ledger as of seq { $seq }
summary-head = Head hash
summary-model = Model
summary-zone = Times shown in

## Ranking and scorecards
ranking = Ranking
col-rank = Rank
col-agency = Agency
col-id = Id
col-kind = Kind
col-score = Score
col-grade = Grade
col-weighted = Weighted
col-deductions = Deductions
col-indicator = Indicator
col-value = Value
col-fraction = Numerator / denominator
col-points = Points
col-how = How it was computed
col-penalty = Penalty
col-occurred = Occurred at
col-deduction = Deduction
col-event = Event
col-month = Month
own-marker-row = ◀ your agency
own-marker = Your agency
heatmap = Indicators heat-map
heatmap-note = Cells show each value, coloured by its points (red 0 → green 100); grey: no value in the period; blank: the indicator does not apply to the agency's kind; †: a small sample. The methodology (appendix) defines each indicator.
trends = Month by month, per agency
trends-none = No whole or partial month in the period.
trends-note = Each chart is one agency's score (0–100 points) in each month alone (months in { $zone }, clipped to the period), in ranking order; a gap is a month without a score.
trends-markdown-note = Each agency's score (0–100 points) in each month alone (months in { $zone }); `-`: no score that month.
scorecards = Scorecards
scorecard-headline = Rank { $rank }, score { $score }
scorecard-formula = = weighted { $weighted } − deductions { $deductions } (clamped to 0–100).
scorecard-unranked = Not ranked: none of its indicators has a value in the period.
evidence = Evidence ({ $count } events):
evidence-more = … and { $more } more (the JSON report lists them all).
penalties-none = Penalties: none in the period; no deduction.
not-applicable-note = `-`: no value in the period; blank: the indicator does not apply to the agency's kind.

## Charts
chart-ranking-label = Ranking of agencies by score
chart-ranking-title = Ranking of agencies by score (0–100)
chart-heatmap-label = Points of each agency on each indicator
chart-heatmap-title = Points (0–100) of each agency on each indicator
chart-weight = w { $weight }
chart-points = { $points } points

## Footer
footer-repro = Reproducibility
footer-as-of = As of seq { $seq }, head hash { $hash }, model sha256 { $model }.
footer-pure = This report is a pure function of the ledger up to that seq, the period, the model, the language and the time zone. Regenerate it byte for byte with:
footer-check = and check a published copy with
proof = Proof against the log
proof-text = The figures count the events up to seq { $seq }, whose hash is { $hash }. Any checkpoint of the log's signed tree of that size or larger proves them without trusting the office that runs it: { $inclusion } (or { $get }) gives the proof, { $verify } checks it against the log's verifier key offline, and the checkpoint's cosignatures say whether it was witnessed. The live dashboard names the checkpoint.
proof-stamp = When this report was made, the first signed checkpoint covering seq { $seq } was the one of size { $size } (root { $root }), with { $cosignatures } witness cosignature(s): { $get }.

## Title page
title-issuer = Issued by
title-issuer-value = { $name } ({ $id })
title-issuer-unregistered = { $id } (not registered as of seq { $seq })
title-issuer-none = Not stated: an unpublished draft (name the issuer with --issuer, or publish it)
title-period = Period
title-period-value = { $from } to { $to } (end excluded); exact instants { $from_utc } to { $to_utc }
title-issued = Issue date
title-issued-value = { $date }: the time the ledger recorded event { $seq }, which the report is computed at ({ $at })
title-position = Ledger position
title-position-value = seq { $seq }: every event up to it counts, none after
title-checkpoint = Signed checkpoint
title-checkpoint-value = tree size { $size }, root { $root }; { $cosigned }
title-cosigned = { $count } witness cosignature(s) when the report was made
title-not-cosigned = no witness cosignature when the report was made
title-checkpoint-none = none covered seq { $seq } when the report was made

## Methodology, samples and the appendix
appendix = Appendix
method = Methodology
method-model = Assessment model version { $version } (the model file's sha256 { $sha }); this section is generated from it.
method-score = Each indicator's value becomes 0–100 points by its formula. The weighted score is Σ weight × points / Σ weight over the indicators that apply to the agency's kind and have a value in the period (the others are left out and the weights renormalised). Score = weighted score − deductions for penalties, clamped to 0–100; the grade is the highest band whose minimum the score reaches.
method-ranking = Ranking: score descending, then agency id; agencies without a score are not ranked. Rates count what happened by the assessment clock, the recorded time of the last event counted.
method-small = { $mark } marks an indicator computed over fewer than { $below } items (the sample n is shown beside each value): such a figure rests on very few events and may change much with one more.
method-col-definition = Definition
method-col-formula = Points formula
method-col-weight = Weight
method-col-applies = Applies to
method-col-min-score = Minimum score
method-formula-rate = Rate: 100 × value
method-formula-latency = Latency (p90): 100 at or below { $good } s, 0 at or above { $bad } s, linear between
method-formula-target = Target: 100 × min(1, value / { $target })
method-applies-all = All kinds
list-separator = {", "}
col-sample = Sample (n)
chart-sample = n = { $n }

## Small multiples
trends-axis-score = score (points)
trends-axis-month = month
trends-points = points
trends-chart-label = Score of { $agency } by month (0–100 points)
