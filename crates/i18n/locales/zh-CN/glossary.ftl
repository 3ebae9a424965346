# 术语表（简体中文）：SPEC 2.3 和 3.2 中各代码的名称。
# 与 en/glossary.ftl 保持相同的消息。

## 单位类型 (kind-<code>)
kind-public_security = 公安机关
kind-bank = 银行
kind-payment_institution = 支付机构
kind-telecom_operator = 电信运营商
kind-internet_platform = 互联网平台
kind-government = 政府部门
kind-regulator = 监管部门
kind-procuratorate = 检察院
kind-court = 法院
kind-community = 社区
kind-other = 其他

## 角色：单位在账本中的角色（协调、评估）和令牌的角色
role-coordinator = 协调单位
role-evaluator = 评估单位
role-agency = 成员单位
role-auditor = 审计

## 指标（SPEC 3.2）：名称、简称、含义
indicator-task_on_time_rate = 任务按时完成率
indicator-task_on_time_rate-short = 任务按时
indicator-task_on_time_rate-desc = 期内到期的任务（由协调单位交办或本单位签收）中按期完成的比例。
indicator-meeting_attendance_rate = 联席会议出席率
indicator-meeting_attendance_rate-short = 会议出席
indicator-meeting_attendance_rate-desc = 受邀参加、且在期内召开的联席会议中实际出席的比例。
indicator-freeze_execution_rate = 止付冻结执行率
indicator-freeze_execution_rate-short = 冻结执行
indicator-freeze_execution_rate-desc = 期内收到的止付冻结请求中已执行的比例。
indicator-freeze_response_p90_s = 止付冻结响应时间（P90）
indicator-freeze_response_p90_s-short = 冻结P90
indicator-freeze_response_p90_s-desc = 从收到止付冻结请求到答复（执行或拒绝）所用时间的第 90 百分位数。
indicator-clue_feedback_rate = 线索反馈率
indicator-clue_feedback_rate-short = 线索反馈
indicator-clue_feedback_rate-desc = 期内移交给本单位的线索中已反馈的比例。
indicator-clue_feedback_p90_s = 线索反馈时间（P90）
indicator-clue_feedback_p90_s-short = 线索P90
indicator-clue_feedback_p90_s-desc = 从线索移交到本单位反馈所用时间的第 90 百分位数。
indicator-dissuasion_coverage_rate = 预警劝阻覆盖率
indicator-dissuasion_coverage_rate-short = 劝阻覆盖
indicator-dissuasion_coverage_rate-desc = 期内下发给本单位的预警中有劝阻记录的比例。
indicator-loss_recovery_ratio = 挽损比
indicator-loss_recovery_ratio-short = 挽损
indicator-loss_recovery_ratio-desc = 本单位申请冻结后返还的资金与其报案损失之比。
indicator-cards_disposed = 断卡处置数
indicator-cards_disposed-short = 断卡处置
indicator-cards_disposed-desc = 断卡行动处置的银行卡、电话卡和互联网账号数。

## 内置模型的等级（自定义模型的等级按原名显示）
grade-excellent = 优秀
grade-good = 良好
grade-pass = 合格
grade-fail = 不合格

## 处罚
penalty-warning = 警告
penalty-public_criticism = 通报批评
penalty-fine = 罚款
penalty-suspension = 暂停业务

## 有专名的时区（zone-<IANA 名称>；其他按原名显示）
zone-Asia_Shanghai = 北京时间
zone-UTC = 协调世界时

## 期间，按录入时所用的时区命名
period-quarter = { $year }年第{ $quarter ->
    [q1] 一
    [q2] 二
    [q3] 三
   *[q4] 四
}季度（{ $zone }）
period-month = { $year }年{ $month }月（{ $zone }）
period-days = { $first } 至 { $last }（{ $zone }）
period-instants = { $from } 至 { $to }（不含结束时刻，{ $zone }）
