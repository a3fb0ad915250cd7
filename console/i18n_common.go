package console

import (
	"regexp"
	"strings"

	"github.com/heraldhq/herald"
)

// Status names (pushes and deliveries), the delivery chart's legend and
// the errors of the services, as every page shows them.
func init() {
	addCatalogue(langZH, map[string]string{
		// Push statuses, as pushStatusLabels names them ("Draft" is in
		// the main catalogue).
		"Pending approval": "待审批",
		"Approved":         "已批准",
		"Rejected":         "已驳回",
		"Scheduled":        "已排期",
		"Sending":          "发送中",
		"Sent":             "已发送",
		"Cancelled":        "已取消",
		"Recalled":         "已撤回",
		// Delivery statuses, as stored (the log and the chart's legend
		// print them through the catalogue).
		"failed": "失败",
		"dead":   "已放弃",
		"ID":     "ID",
		"max":    "最大",
		"Push":   "推送",
		// The notifier form's labels (also the names errors give fields),
		// and the test message it sends.
		"URL":                 "URL",
		"Port":                "端口",
		"TLS":                 "TLS",
		"Username":            "用户名",
		"From":                "发件人",
		"Herald test message": "Herald 测试消息",
		"This is a test message from the Herald console for the notifier %q.": "这是 Herald 控制台发给通知渠道 %q 的测试消息。",
		// What an error page says before the service's own words when no
		// translation of them is known.
		"The input is not valid:":             "输入无效：",
		"Not found:":                          "未找到：",
		"Conflict:":                           "冲突：",
		"Sign in again:":                      "请重新登录：",
		"Not permitted:":                      "无权执行：",
		"Too many requests; try again later:": "请求过多，请稍后重试：",
		"Too large:":                          "内容过大：",
		"Not allowed in the current state:":   "当前状态下不允许：",
		"Something went wrong on the server.": "服务器出错。",
		"Internal error.":                     "内部错误。",
		"no such page":                        "页面不存在",
		"unknown push action":                 "未知的推送操作",
		"send_at must be a date and time":     "发送时间须为日期和时间",
	})
}

// errorPrefixes say, per error code, what kind of error a person reads
// when the service's message has no translation.
var errorPrefixes = map[string]string{
	herald.EINVALID:      "The input is not valid:",
	herald.ENOTFOUND:     "Not found:",
	herald.ECONFLICT:     "Conflict:",
	herald.EUNAUTHORIZED: "Sign in again:",
	herald.EFORBIDDEN:    "Not permitted:",
	herald.ERATELIMITED:  "Too many requests; try again later:",
	herald.ETOOLARGE:     "Too large:",
	herald.ENOTALLOWED:   "Not allowed in the current state:",
}

// errorPattern translates a family of service messages (they carry
// values, so they cannot be catalogue keys).
type errorPattern struct {
	re *regexp.Regexp
	zh string // regexp.Expand template
	// fn, when set, says it instead, from the submatches.
	fn func(m []string) string
}

var errorPatterns = []errorPattern{
	{regexp.MustCompile(`^(\S+) is required$`), "$1 为必填项", nil},
	{regexp.MustCompile(`^(\S+) must be at most (\d+) characters$`), "$1 最多 $2 个字符", nil},
	{regexp.MustCompile(`^(\S+) must be at most (\d+) bytes$`), "$1 最多 $2 字节", nil},
	{regexp.MustCompile(`^(\S+) must be ids separated by commas$`), "$1 须为逗号分隔的 ID", nil},
	{regexp.MustCompile(`^(\S+) (\d+) not found$`), "$1 $2 不存在", nil},
	{regexp.MustCompile(`^a push in status (\S+) cannot (\S+)$`), "", func(m []string) string {
		action := strings.TrimSuffix(pushActionLabels[herald.PushAction(strings.ReplaceAll(m[2], "-", "_"))], "…")
		if action == "" {
			action = m[2]
		}
		return "状态为“" + translate(langZH, pushStatusLabels[herald.PushStatus(m[1])]) + "”的推送不能“" + translate(langZH, action) + "”"
	}},
	{regexp.MustCompile(`^push (\d+) changed status meanwhile; try again$`), "推送 $1 的状态已被他人改变，请重试", nil},
	{regexp.MustCompile(`^push (\d+) was submitted by this token \(or its user\); another approver must approve it, unless the tenant's push policy allows self-approval$`),
		"推送 $1 由当前令牌（或其用户）提交，须由其他审批人批准（除非租户的推送策略允许自审批）", nil},
	{regexp.MustCompile(`^a reason of 1-(\d+) characters is required to reject$`), "驳回须填写 1–$1 个字符的原因", nil},
	{regexp.MustCompile(`^this token lacks the (\S+) permission \(code (\d+)\)$`), "当前令牌缺少 $1 权限（代码 $2）", nil},
	{regexp.MustCompile(`^this token is scoped to project (\d+); (.+) needs a token of the whole tenant$`), "当前令牌仅限项目 $1；此操作需要整个租户的令牌", nil},
	{regexp.MustCompile(`^(\S+) must be exactly 32 letters or digits$`), "$1 须为恰好 32 个字母或数字", nil},
	{regexp.MustCompile(`^push_scope_type 2 needs users or departments$`), "“指定用户和部门”范围需要用户或部门", nil},
	{regexp.MustCompile(`^content_type must be text or card$`), "类型须为文本或卡片", nil},
}

// translateError is err's message in lang: the catalogue's translation,
// else a pattern's, else (not in English) the service's words after what
// kind of error it is. whole says the message needs no field label (a
// pattern said it all).
func translateError(lang string, err error) (msg string, whole bool) {
	msg = herald.ErrorMessage(err)
	if lang == langEN {
		return msg, false
	}
	if t := translate(lang, msg); t != msg {
		return t, false
	}
	if lang == langZH {
		for _, p := range errorPatterns {
			if m := p.re.FindStringSubmatchIndex(msg); m != nil {
				if p.fn != nil {
					return p.fn(p.re.FindStringSubmatch(msg)), true
				}
				return string(p.re.ExpandString(nil, p.zh, msg, m)), false
			}
		}
	}
	if pre, ok := errorPrefixes[herald.ErrorCode(err)]; ok {
		return translate(lang, pre) + " " + msg, false
	}
	return msg, false
}
