package console

// The project settings form (projects.go, project.html).
func init() {
	flashes["Project saved."] = true
	fieldLabels["allowed_origins"] = "Allowed origins"
	fieldLabels["description"] = "Description"
	addCatalogue(langZH, map[string]string{
		"Project settings": "项目设置",
		"Project saved.":   "项目已保存。",
		"Allowed origins":  "允许的来源域",
		"Origins that may embed the inbox (one per line)":                                                                          "可嵌入收件箱的来源域（每行一个）",
		"Pages served from these origins may embed this project's inbox widget with its end-user tokens (docs/EMBED.md). Example:": "这些来源域上的页面可以用本项目的终端用户令牌嵌入收件箱组件（见 docs/EMBED.md）。例如：",
	})
}
