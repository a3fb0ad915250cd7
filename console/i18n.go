package console

import (
	"net/http"
	"strconv"
	"strings"
)

// Languages the console speaks. Messages are written in English in the
// templates and code; zh maps each to Chinese, and a message it lacks is
// shown in English.
const (
	langEN = "en"
	langZH = "zh"
)

var catalogue = map[string]map[string]string{
	langZH: {
		"Herald console":           "Herald 控制台",
		"Per-record notifications": "记录条件通知",
		"Reminder notifications":   "提醒通知",
		"Written through Kintone's API; deployed with these settings.": "通过 Kintone API 编写，随这些设置一起部署。",
		"Condition":                              "条件",
		"Title":                                  "标题",
		"every record":                           "所有记录",
		"None.":                                  "无。",
		"Time zone":                              "时区",
		"The draft differs from live: live has":  "草稿与线上不同：线上有",
		"Sign in":                                "登录",
		"Sign out":                               "退出登录",
		"Token":                                  "令牌",
		"Paste a Herald token":                   "粘贴 Herald 令牌",
		"That token is not valid.":               "该令牌无效。",
		"Your session has ended. Sign in again.": "会话已结束，请重新登录。",
		"This form has expired or did not come from the console. Reload the page and try again.": "表单已过期或并非来自控制台。请刷新页面后重试。",
		"This form did not come from the console.":                                               "该表单并非来自控制台。",
		"Projects":         "项目",
		"Project":          "项目",
		"Sources":          "来源",
		"Source":           "来源",
		"Notifiers":        "通知渠道",
		"Notifier":         "通知渠道",
		"Directory":        "通讯录",
		"Delivery log":     "投递日志",
		"Settings history": "设置历史",
		"History":          "历史",
		"Name":             "名称",
		"Description":      "描述",
		"Create":           "创建",
		"Delete project":   "删除项目",
		"Project deleted.": "项目已删除。",
		"Deleting the project erases its sources, notifiers and settings, and every event and delivery of its sources. It cannot be undone.": "删除项目会一并删除其来源、通知渠道和设置，以及其来源的所有事件和投递记录，且无法恢复。",
		"Type the project's name to confirm":                     "输入项目名称以确认",
		"To delete the project, type its name exactly as shown.": "要删除项目，请准确输入所示的项目名称。",
		"Save":                     "保存",
		"Kind":                     "类型",
		"Type":                     "类型",
		"External ID":              "外部 ID",
		"Next page":                "下一页",
		"First page":               "第一页",
		"New project":              "新建项目",
		"New source":               "新建来源",
		"New notifier":             "新建通知渠道",
		"Project defaults":         "项目默认设置",
		"Notification settings":    "通知设置",
		"Event type":               "事件类型",
		"Draft":                    "草稿",
		"Live":                     "线上",
		"Revision":                 "版本",
		"Deploy":                   "发布",
		"Discard draft":            "放弃草稿",
		"Save draft":               "保存草稿",
		"Channel on":               "渠道开启",
		"on":                       "开",
		"off":                      "关",
		"Recipients":               "接收人",
		"recipients":               "接收人",
		"Inherit project settings": "继承项目设置",
		"The draft differs from live in the highlighted cells.": "高亮的单元格表示草稿与线上不同。",
		"The draft is the same as live.":                        "草稿与线上一致。",
		"Draft saved.":                                          "草稿已保存。",
		"Deployed.":                                             "已发布。",
		"Draft discarded.":                                      "草稿已放弃。",
		"Someone else changed these settings while you were editing them.": "在你编辑时，其他人修改了这些设置。",
		"Your changes were not saved. The draft is now at revision":        "你的修改未保存。草稿当前版本为",
		"by":                                    "修改人",
		"at":                                    "时间",
		"Review it and make your change again.": "请查看后重新修改。",
		"This project has no notifiers yet.":    "该项目还没有通知渠道。",
		"Add":                                   "添加",
		"Remove":                                "移除",
		"Include sub-departments":               "包含子部门",
		"Code":                                  "编码",
		"User":                                  "用户",
		"Group":                                 "用户组",
		"Department":                            "部门",
		"Role":                                  "角色",
		"Back to the matrix":                    "返回设置矩阵",
		"Secret":                                "密钥",
		"Private CA (PEM certificates)":         "私有 CA（PEM 证书）",
		"Do not verify the server certificate (logged as a warning)": "不校验服务器证书（会记录警告日志）",

		"Leave empty to keep the current secret.":                "留空则保留当前密钥。",
		"Send test message":                                      "发送测试消息",
		"Test message sent.":                                     "测试消息已发送。",
		"Test message failed:":                                   "测试消息发送失败：",
		"Send to (email or mobile, for email and SMS notifiers)": "发送至（邮件或短信渠道填写邮箱或手机号）",
		"Notifier saved.":                                        "通知渠道已保存。",
		"Users":                                                  "用户",
		"Groups":                                                 "用户组",
		"Departments":                                            "部门",
		"Members":                                                "成员",
		"Email":                                                  "邮箱",
		"Mobile":                                                 "手机",
		"Top level":                                              "顶层",
		"Sub-departments":                                        "子部门",
		"Status":                                                 "状态",
		"Attempts":                                               "尝试次数",
		"Last error":                                             "最近错误",
		"Retry":                                                  "重试",
		"Event":                                                  "事件",
		"Target":                                                 "目标",
		"Channel":                                                "渠道",
		"Created":                                                "创建时间",
		"Updated":                                                "更新时间",
		"Filter":                                                 "筛选",
		"All":                                                    "全部",
		"Deliveries per minute, last hour":                       "最近一小时每分钟投递数",
		"Delivery queued for retry.":                             "投递已重新排队。",
		"No deliveries.":                                         "没有投递记录。",
		"Deliveries":                                             "投递",
		"Actor":                                                  "操作人",
		"Payload":                                                "内容",
		"Roles":                                                  "角色",
		"Action":                                                 "操作",
		"When":                                                   "时间",
		"Who":                                                    "操作人",
		"update":                                                 "修改",
		"deploy":                                                 "发布",
		"revert":                                                 "放弃草稿",
		"Error":                                                  "错误",
		"Language":                                               "语言",
		"Project created.":                                       "项目已创建。",
		"Source created.":                                        "来源已创建。",
		"none":                                                   "无",
		"Space ID":                                               "空间 ID",
		"Rate limit":                                             "频率限制",
		"messages per":                                           "条 / 每",
		"seconds":                                                "秒",
		"Headers (one per line, Name: value)":                    "请求头（每行一个，名称: 值）",
		"Message body template":                                  "消息体模板",
		"Mention mobiles (comma separated)":                      "@手机号（逗号分隔）",
		"Mention user IDs (comma separated)":                     "@用户 ID（逗号分隔）",
		"Method":                                                 "方法",
		"An inbox notifier delivers in-app messages; there is nothing to test.": "站内信渠道投递应用内消息，无需测试。",
		"Back":   "返回",
		"Events": "事件",

		"Credentials show as ********: saved unchanged, they are kept; to send elsewhere, type them again.": "凭据显示为 ********：原样保存即保留；改为发送到别处时需要重新填写。",
	},
}

// addCatalogue adds messages to lang's catalogue. Each console page
// keeps its own Chinese strings beside it (i18n_<page>.go, in an init),
// so pages are translated without editing one shared map; a message
// given twice with different translations panics at start-up.
func addCatalogue(lang string, msgs map[string]string) {
	m := catalogue[lang]
	if m == nil {
		m = map[string]string{}
		catalogue[lang] = m
	}
	for k, v := range msgs {
		if old, ok := m[k]; ok && old != v {
			panic("console: " + lang + " translation of " + strconv.Quote(k) + " given twice: " + strconv.Quote(old) + " and " + strconv.Quote(v))
		}
		m[k] = v
	}
}

// translate returns msg in lang.
func translate(lang, msg string) string {
	if m, ok := catalogue[lang][msg]; ok {
		return m
	}
	return msg
}

// language picks the console's language: the cookie set by the switcher,
// else the first of the browser's Accept-Language that the console
// speaks, by quality.
func language(r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil && (ck.Value == langEN || ck.Value == langZH) {
		return ck.Value
	}
	best, bestQ := langEN, -1.0
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if (base == langEN || base == langZH) && q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}

// handleLang switches the language and goes back where the person was.
func (c *Console) handleLang(w http.ResponseWriter, r *http.Request, v *view) error {
	lang := r.PathValue("lang")
	if lang != langEN && lang != langZH {
		lang = langEN
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/console", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
	return nil
}
