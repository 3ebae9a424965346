# 通俗解释（简体中文）：`govledger scorecard`、GraphQL 记分卡的解释和报告中
# “计算说明”一栏。与 en/explain.ftl 保持相同的消息。
# $plural 为 "one" 或 "other"，由调用方按数量选择。

## 时长与金额
explain-seconds = { $s } 秒
explain-about-minutes = { $s } 秒（约 { $x } 分钟）
explain-about-hours = { $s } 秒（约 { $x } 小时）
explain-about-days = { $s } 秒（约 { $x } 天）
explain-money = { $fen } 分（¥{ $yuan }）

## 各指标统计了什么
explain-p90 = { $n } 个{ $answered }；按时长排序，最近秩 { $rank } = ceil(0.9 × { $n }) 的一个用时 { $took }
explain-not-applicable = 不适用：{ $why }
explain-task = 由协调单位交办或经其确认、且期内到期（以考核时钟为准）的 { $den } 项任务中，{ $num } 项按期完成（{ $pct }）
explain-task-none = 期内没有由协调单位交办或经其确认的任务到期
explain-meeting = 期内召开、由协调单位召集并邀请其参加的 { $den } 次联席会议中，出席 { $num } 次（{ $pct }）
explain-meeting-none = 期内没有召开由协调单位召集并邀请其参加的会议
explain-freeze = 期内收到的 { $den } 个冻结请求中，{ $num } 个已执行（{ $pct }）
explain-freeze-none = 期内未收到冻结请求
explain-freeze-p90-answered = 期内收到的冻结请求已答复（执行或拒绝）
explain-freeze-p90-none = 期内收到的冻结请求均未答复
explain-clue = 期内移送给它的 { $den } 条线索中，{ $num } 条已反馈（{ $pct }）
explain-clue-none = 期内没有移送给它的线索
explain-clue-p90-answered = 期内移送给它的线索已反馈
explain-clue-p90-none = 期内移送给它的线索均未反馈
explain-dissuasion = 期内向它发出的 { $den } 条预警中，{ $num } 条有劝阻记录（{ $pct }）
explain-dissuasion-none = 期内没有向它发出预警
explain-loss = 期内它申请的冻结共返还资金 { $returned }，期内它报告的案件损失 { $lost }（比值 { $ratio }）
explain-loss-none = 期内它没有报告有损失的案件
explain-cards = 期内 { $n } 次断卡行动共处置银行卡、电话卡和互联网账号 { $total } 个

## 数值如何换算为指标得分
explain-left-out = 不计入，其余权重重新归一
explain-rate-rule = 100 × { $value } = { $points } 分
explain-latency-good = 不超过 { $good } 秒得 100 分 → { $points } 分
explain-latency-bad = 不少于 { $bad } 秒得 0 分 → { $points } 分
explain-latency-rule = 100 × ({ $bad } − { $value }) / ({ $bad } − { $good }) = { $points } 分
explain-target-rule = 100 × min(1, { $value } / { $target }) = { $points } 分
explain-how = { $counted }；{ $scored }。
explain-points = { $points } 分
explain-weight = { $rule }，权重 { $weight }（共 { $total }）

## 记分卡
explain-title = { $id }（{ $name }，{ $kind }）记分卡
explain-where = 考核期间 { $from } 至 { $to }（不含结束时刻），截至账本第 { $seq } 号事件（事件哈希 { $hash }），模型 sha256 { $model }
explain-score = 得分 { $score }（等级：{ $grade }），在 { $ranked } 个参与排名的单位中居第 { $rank } 名。
explain-no-score = 无得分：模型中适用于{ $kind }类单位的指标在本期均无数值，因此不参与排名。
explain-indicators = 指标：
explain-indicator = - { $name }：{ $counted }；{ $scored }。
explain-evidence = （{ $n } 个证据事件；`govledger assess --format json` 列出其编号）
explain-weighted = 加权分：对 { $n } 个有数值的指标求 Σ 权重 × 指标得分 / Σ 权重（权重合计 { $total }）= { $weighted }。
explain-weighted-none = 加权分：无（没有指标有数值）。
explain-deductions-none = 扣分：无（期内没有未撤销的处罚）。
explain-deductions = 扣分：期内受到且未撤销的 { $n } 项处罚，共扣 { $points } 分：
explain-penalty = - { $at } 的{ $kind }（事件 { $event }）：−{ $deduction }
explain-band = （{ $min } 分及以上）
explain-final = 得分：clamp({ $weighted } − { $deductions }, 0, 100) = { $score } → 等级：{ $grade }{ $band }。

## `govledger assess --format table` 的排名表
explain-table-where = 考核期间 { $from } 至 { $to }（不含结束时刻），截至第 { $seq } 号事件（哈希 { $hash }），模型 sha256 { $model }
