# 面向浏览器的 HTML 错误页（简体中文）。稳定错误代码和服务器的说明原样显示，
# 这里是它们周围的文字。

error-page-title = 错误 { $status } · govledger
error-page-code = 错误代码
error-page-detail = 服务器说明
error-page-back = 返回看板
error-page-bad-request = 无法按原样处理此请求。
error-page-unauthorized = 您尚未登录，或令牌未知、已过期或已吊销。
error-page-unauthorized-hint = 请使用协调单位提供的带 ?token=… 的链接打开（govledger token issue）。
error-page-forbidden = 您的令牌无权访问此内容。
error-page-not-found = 此处没有内容。
error-page-busy = 服务器繁忙，请稍后再试。
error-page-server = 服务器出错，已记录日志。
