# The glossary (English): the names of the codes of SPEC 2.3 and 3.2 as
# people read them. Keep zh-CN/glossary.ftl holding the same messages.

## Agency kinds (kind-<code>)
kind-public_security = Public security
kind-bank = Bank
kind-payment_institution = Payment institution
kind-telecom_operator = Telecom operator
kind-internet_platform = Internet platform
kind-government = Government
kind-regulator = Regulator
kind-procuratorate = Procuratorate
kind-court = Court
kind-community = Community
kind-other = Other

## Roles: of an agency in the ledger (coordinator, evaluator) and of a token
role-coordinator = Coordinator
role-evaluator = Evaluator
role-agency = Agency
role-auditor = Auditor

## Indicators (SPEC 3.2): name, short column label, what it measures
indicator-task_on_time_rate = Task on-time rate
indicator-task_on_time_rate-short = Tasks on time
indicator-task_on_time_rate-desc = Share of the tasks due in the period (assigned by a coordinator or acknowledged) completed by their deadline.
indicator-meeting_attendance_rate = Meeting attendance rate
indicator-meeting_attendance_rate-short = Meetings
indicator-meeting_attendance_rate-desc = Share of the joint meetings it was invited to, held in the period, that it attended.
indicator-freeze_execution_rate = Freeze execution rate
indicator-freeze_execution_rate-short = Freezes executed
indicator-freeze_execution_rate-desc = Share of the freeze requests it received in the period that it executed.
indicator-freeze_response_p90_s = Freeze response time (p90)
indicator-freeze_response_p90_s-short = Freeze p90
indicator-freeze_response_p90_s-desc = 90th percentile of the time from a freeze request to its answer (executed or rejected).
indicator-clue_feedback_rate = Clue feedback rate
indicator-clue_feedback_rate-short = Clue feedback
indicator-clue_feedback_rate-desc = Share of the clues referred to it in the period that received its feedback.
indicator-clue_feedback_p90_s = Clue feedback time (p90)
indicator-clue_feedback_p90_s-short = Clue p90
indicator-clue_feedback_p90_s-desc = 90th percentile of the time from a clue's referral to its feedback.
indicator-dissuasion_coverage_rate = Dissuasion coverage rate
indicator-dissuasion_coverage_rate-short = Dissuasion
indicator-dissuasion_coverage_rate-desc = Share of the early warnings issued to it in the period that have a dissuasion record.
indicator-loss_recovery_ratio = Loss recovery ratio
indicator-loss_recovery_ratio-short = Loss recovery
indicator-loss_recovery_ratio-desc = Funds returned on the freezes it requested, against the losses of the cases it reported.
indicator-cards_disposed = Cards disposed
indicator-cards_disposed-short = Cards disposed
indicator-cards_disposed-desc = Bank cards, phone cards and internet accounts disposed of by its card-breaking actions.

## Grades of the built-in model (a custom model's grades are shown as named)
grade-excellent = Excellent
grade-good = Good
grade-pass = Pass
grade-fail = Fail

## Penalties
penalty-warning = Warning
penalty-public_criticism = Public criticism
penalty-fine = Fine
penalty-suspension = Suspension

## Time zones with a name of their own (zone-<IANA name>; others are shown as named)
zone-Asia_Shanghai = Beijing time
zone-UTC = UTC

## Periods, named in the time zone they were entered in
period-quarter = { $year } { $quarter ->
    [q1] Q1
    [q2] Q2
    [q3] Q3
   *[q4] Q4
} ({ $zone })
period-month = { $year }-{ $month } ({ $zone })
period-days = { $first } to { $last } ({ $zone })
period-instants = { $from } to { $to } (end excluded, { $zone })
