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
heatmap-note = 单元格显示各指标数值，颜色表示得分（红 0 → 绿 100）；灰色：期内无数值；空白：该指标不适用于此类单位；†：样本少。各指标的定义见附录“考核方法”。
trends = 各单位逐月趋势
trends-none = 期内没有完整或部分月份。
trends-note = 每幅小图为一个单位各月单独计算的得分（0–100 分；按{ $zone }计月，截至考核期间边界），按排名顺序排列；断开处表示当月无得分。
trends-markdown-note = 各单位各月单独计算的得分（0–100 分；按{ $zone }计月）；`-`：当月无得分。
scorecards = 记分卡
scorecard-headline = 第 { $rank } 名，得分 { $score }
scorecard-formula = = 加权分 { $weighted } − 扣分 { $deductions }（限定在 0–100 之间）。
scorecard-unranked = 未排名：期内没有任何指标有数值。
evidence = 证据（{ $count } 个事件）：
evidence-more = … 另有 { $more } 个（JSON 报告列出全部）。
penalties-none = 处罚：期内无，不扣分。
not-applicable-note = `-`：期内无数值；空白：该指标不适用于此类单位。

## 图表
chart-ranking-label = 各单位得分排名
chart-ranking-title = 各单位得分排名（0–100）
chart-heatmap-label = 各单位各指标得分
chart-heatmap-title = 各单位各指标得分（0–100）
chart-weight = 权重 { $weight }
chart-points = { $points } 分

## 页脚
footer-repro = 可复现性
footer-as-of = 截至第 { $seq } 号事件，最新事件哈希 { $hash }，模型 sha256 { $model }。
footer-pure = 本报告完全由截至该事件的账本、考核期间、模型、语言和时区决定。用以下命令可逐字节重新生成：
footer-check = 并可用以下命令核对已发布的副本：
proof = 对日志的证明
proof-text = 这些数字统计截至第 { $seq } 号事件（哈希 { $hash }）的全部事件。日志签名树中任何不小于该规模的检查点都能证明它们，无需信任运行系统的单位：{ $inclusion }（或 { $get }）给出证明，{ $verify } 用日志的验证公钥离线核验，检查点的联署说明是否经过见证。实时看板会标明检查点。
proof-stamp = 本报告生成时，覆盖第 { $seq } 号事件的第一个已签名检查点规模为 { $size }（根哈希 { $root }），有 { $cosignatures } 个见证联署：{ $get }。

## 封面
title-issuer = 发布单位
title-issuer-value = { $name }（{ $id }）
title-issuer-unregistered = { $id }（截至第 { $seq } 号事件未登记）
title-issuer-none = 未注明：未发布的草稿（用 --issuer 注明发布单位，或发布本报告）
title-period = 考核期间
title-period-value = { $from } 至 { $to }（不含结束时刻）；精确时刻 { $from_utc } 至 { $to_utc }
title-issued = 发布日期
title-issued-value = { $date }：账本记录第 { $seq } 号事件（本报告的计算位置）的时间（{ $at }）
title-position = 账本位置
title-position-value = 第 { $seq } 号事件：统计截至该事件的全部事件，之后的不计
title-checkpoint = 已签名检查点
title-checkpoint-value = 树规模 { $size }，根哈希 { $root }；{ $cosigned }
title-cosigned = 生成报告时有 { $count } 个见证联署
title-not-cosigned = 生成报告时没有见证联署
title-checkpoint-none = 生成报告时尚无检查点覆盖第 { $seq } 号事件

## 方法说明、样本与附录
appendix = 附录
method = 考核方法
method-model = 考核模型第 { $version } 版（模型文件 sha256 { $sha }）；本节由该模型文件生成。
method-score = 各指标数值按其公式换算为 0–100 的指标得分。加权分 = Σ 权重 × 指标得分 / Σ 权重，只计适用于该类单位且期内有数值的指标（其余不计入，权重重新归一）。得分 = 加权分 − 处罚扣分，限定在 0–100 之间；等级为得分达到其下限的最高档。
method-ranking = 排名：按得分从高到低，同分按单位代码；无得分的单位不参与排名。比率按考核时钟（所计最后一个事件的记录时间）统计。
method-small = { $mark } 表示该指标的样本少于 { $below } 个（各数值旁注明样本数 n）：这样的数字只依据很少的事件，多一个事件就可能大幅变化。
method-col-definition = 定义
method-col-formula = 得分公式
method-col-weight = 权重
method-col-applies = 适用单位
method-col-min-score = 最低得分
method-formula-rate = 比率：100 × 数值
method-formula-latency = 时长（第 90 百分位）：不超过 { $good } 秒得 100 分，不少于 { $bad } 秒得 0 分，其间线性
method-formula-target = 目标：100 × min(1, 数值 / { $target })
method-applies-all = 所有类型
list-separator = 、
col-sample = 样本数（n）
chart-sample = n = { $n }

## 小多图
trends-axis-score = 得分（分）
trends-axis-month = 月份
trends-points = 分
trends-chart-label = { $agency } 逐月得分（0–100 分）
