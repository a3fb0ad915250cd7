package console

// The delivery log's Chinese: the filter, the bulk retry, and the names
// of delivery statuses and channels, which the log shows translated.
func init() {
	addCatalogue(langZH, map[string]string{
		// Delivery statuses.
		"pending":   "待发送",
		"sending":   "发送中",
		"delivered": "已送达",
		"failed":    "失败",
		"skipped":   "已跳过",
		"dead":      "已放弃",
		"deferred":  "已延后",
		// Channels (notifier types).
		"email":    "邮件",
		"sms":      "短信",
		"dingtalk": "钉钉",
		"lark":     "飞书",
		"wecom":    "企业微信",
		"webhook":  "Webhook",
		"inbox":    "站内信",
		"chat":     "群聊",

		"max":                         "最大",
		"From (UTC)":                  "起始时间（UTC）",
		"To (UTC)":                    "截止时间（UTC）",
		"Clear":                       "清除",
		"Recipient":                   "接收者",
		"Push":                        "推送",
		"Cancel":                      "取消",
		"Deliveries queued for retry": "已重新排队的投递",
		"More match this filter than one retry takes: retry again for the rest.": "符合筛选条件的投递多于单次重试的上限：请再次重试其余投递。",
		"Retry all dead in this filter":                                          "重试此筛选中所有已放弃的投递",
		"Retry all failed in this filter":                                        "重试此筛选中所有失败的投递",
		"Retry deliveries":                                                       "重试投递",
		"Deliveries to retry":                                                    "待重试的投递",
		"more match this filter: one retry takes at most":                        "符合条件的更多：单次重试最多",
		"No delivery in this filter can be retried.":                             "此筛选中没有可重试的投递。",
		"Each is sent again from its first attempt, with the same message id, so a receiver can drop one it already has.": "每条投递都会从第一次尝试重新发送，消息 ID 不变，接收方可以丢弃已收到的重复消息。",
		"not a known status":                             "不是已知的状态",
		"not a known channel":                            "不是已知的渠道",
		"not one of the list":                            "不在列表中",
		"not a date and time (2006-01-02T15:04)":         "不是日期时间（2006-01-02T15:04）",
		"must be after From":                             "必须晚于起始时间",
		"Only dead or failed deliveries can be retried.": "只有已放弃或失败的投递可以重试。",
	})
}
