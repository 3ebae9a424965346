# 考核报告与实时看板（简体中文）。

report-title = 考核报告：{ $period }
report-heading = 反诈工作责任考核
report-subtitle = 数据来自 govledger 哈希链账本，每个数字都可由账本重新生成。

## 实时看板栏
live-title = 实时看板
live-from = 从
live-to = 至
live-dates-note = （日期自{ $zone }零时起；不含结束日）
live-show = 查看
live-status = 已更新至第 { $seq } 号事件；有新事件时自动刷新。
live-reloading = 有新事件（最新第 { $seq } 号），正在刷新…
live-reader = 当前身份：{ $agency }（{ $role }）。
live-your-agency = 本单位：
live-your-agency-note = （下方高亮显示）。各成员单位可查看全部得分；原始事件仅对相关方可见。
live-proven = 由检查点 { $size } 证明，根哈希
live-witnessed = 已由 { $names } 见证。
live-not-witnessed = 未经见证。
live-short-of-quorum = 已由 { $names } 联署，未达法定数：未经见证。
live-no-checkpoint = 尚无已签名的检查点覆盖这些数字；数秒内将签发。

## 概要
summary = 概要
summary-period = 考核期间
summary-period-instants = { $from } 至 { $to }（不含结束时刻）
summary-agencies = 单位
summary-agencies-value = 已登记 { $total } 个，参与排名 { $ranked } 个（其余单位无可计分指标）
summary-events = 事件
summary-events-value = 截至第 { $seq } 号事件，账本共 { $seq } 个事件
summary-head = 最新事件哈希
summary-model = 考核模型
summary-zone = 时间显示时区

## 排名与记分卡
ranking = 排名
col-rank = 名次
col-agency = 单位
col-id = 代码
col-kind = 类型
col-score = 得分
col-grade = 等级
col-weighted = 加权分
col-deductions = 扣分
col-indicator = 指标
col-value = 数值
col-fraction = 分子 / 分母
col-points = 指标得分
col-how = 计算说明
col-penalty = 处罚
col-occurred = 发生时间
col-deduction = 扣分
col-event = 事件
col-month = 月份
own-marker-row = ◀ 本单位
own-marker = 本单位
heatmap = 指标热力图
heatmap-note = 单元格显示各指标数值，颜色表示得分（红 0 → 绿 100）；灰色：期内无数值；空白：该指标不适用于此类单位。
heatmap-legend = 指标说明
trends = 逐月趋势
trends-none = 期内没有完整或部分月份。
trends-note = 每个点为当月有数值的单位的中位数（按{ $zone }计月，截至考核期间边界）。
trends-markdown-note = 有数值的单位的中位数（时长以小时计，比率以 % 计；按{ $zone }计月）。
scorecards = 记分卡
scorecard-headline = 第 { $rank } 名，得分 { $score }
scorecard-formula = = 加权分 { $weighted } − 扣分 { $deductions }（限定在 0–100 之间）。
scorecard-unranked = 未排名：期内没有任何指标有数值。
evidence = 证据（{ $count } 个事件）：
evidence-more = … 另有 { $more } 个（JSON 报告列出全部）。
penalties-none = 处罚：期内无，不扣分。
not-applicable-note = `-`：期内无数值；空白：该指标不适用于此类单位。

## 图表
unit-hours = 小时
unit-percent = %
chart-ranking-label = 各单位得分排名
chart-ranking-title = 各单位得分排名（0–100）
chart-heatmap-label = 各单位各指标得分
chart-heatmap-title = 各单位各指标得分（0–100）
chart-weight = 权重 { $weight }
chart-points = { $points } 分
chart-trend-label = 逐月趋势（{ $unit }）
chart-trend-title = 逐月趋势：各单位中位数（{ $unit }）

## 页脚
footer-repro = 可复现性
footer-as-of = 截至第 { $seq } 号事件，最新事件哈希 { $hash }，模型 sha256 { $model }。
footer-pure = 本报告完全由截至该事件的账本、考核期间、模型、语言和时区决定。用以下命令可逐字节重新生成：
footer-check = 并可用以下命令核对已发布的副本：
proof = 对日志的证明
proof-text = 这些数字统计截至第 { $seq } 号事件（哈希 { $hash }）的全部事件。日志签名树中任何不小于该规模的检查点都能证明它们，无需信任运行系统的单位：{ $inclusion }（或 { $get }）给出证明，{ $verify } 用日志的验证公钥离线核验，检查点的联署说明是否经过见证。实时看板会标明检查点。
proof-stamp = 本报告生成时，覆盖第 { $seq } 号事件的第一个已签名检查点规模为 { $size }（根哈希 { $root }），有 { $cosignatures } 个见证联署：{ $get }。
