# 命令行面向人的输出（简体中文）。与 en/cli.ftl 保持相同的消息。技术细节
# （校验器发现的问题、默克尔树的状态）以英文附后。

## govledger verify
verify-ok = 正常：{ $events } 个事件，最新第 { $seq } 号，哈希 { $hash }
verify-failed = 失败：第 { $seq } 号事件：{ $problem }：{ $detail }
verify-before = 在此之前已校验 { $events } 个事件
verify-tree-ok = 正常：{ $detail }
verify-tree-failed = 失败：{ $detail }

## 校验发现的问题（problem-<代码>，即 `verify --json` 中的代码）
problem-hash_mismatch = 哈希不符
problem-broken_link = 链接断开
problem-gap = 缺失事件
problem-reordering = 顺序错乱
problem-unreadable = 事件不可读
problem-truncated = 尾部被截断
