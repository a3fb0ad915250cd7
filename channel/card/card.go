// Package card reads a Feishu/Lark message card — the card JSON a push
// carries, which Lark's robot posts as is — into what robots without
// Feishu's card format can show: a title, a markdown body, the same body as
// plain text, and the card's web links. DingTalk turns it into an
// ActionCard, WeCom into markdown, so that a card push reaches them whole
// rather than as its bold title.
//
// Both card formats are read: 1.0 (header, elements) and 2.0 (schema
// "2.0", header, body.elements). The elements shown are text (div with
// text and fields, markdown, plain_text and lark_md), hr, note, img (its
// alt text: an image key means nothing outside Feishu), column_set,
// collapsible_panel, and buttons (action, or a bare button in 2.0). A
// button's link is kept when it is a web URL (url, or multi_url's url);
// applinks and callbacks have no meaning outside Feishu and are dropped.
// Unknown elements are skipped.
package card

import (
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// Link is a button of the card.
type Link struct {
	Text string
	URL  string
}

// Card is a card as other robots can show it.
type Card struct {
	// Title is the header's title, or "".
	Title string
	// Markdown is the body: elements in order, separated by blank lines,
	// without the title and without the buttons.
	Markdown string
	// Text is the body in plain text: markdown emphasis removed, links
	// written "text (url)".
	Text string
	// Links are the card's buttons with a web URL, in order.
	Links []Link
}

// text is a Feishu text object (plain_text or lark_md).
type text struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

// element is any card element; the fields read depend on Tag.
type element struct {
	Tag      string                 `json:"tag"`
	Text     *text                  `json:"text"`
	Content  string                 `json:"content"`
	Fields   []struct{ Text *text } `json:"fields"`
	Elements []element              `json:"elements"`
	Actions  []element              `json:"actions"`
	Columns  []element              `json:"columns"`
	Extra    *element               `json:"extra"`
	Alt      *text                  `json:"alt"`
	Title    *text                  `json:"title"`
	Header   *struct{ Title *text } `json:"header"`
	URL      string                 `json:"url"`
	MultiURL *struct {
		URL string `json:"url"`
	} `json:"multi_url"`
	Behaviors []struct {
		Type       string `json:"type"`
		DefaultURL string `json:"default_url"`
	} `json:"behaviors"`
}

type document struct {
	Header *struct {
		Title *text `json:"title"`
	} `json:"header"`
	Elements []element `json:"elements"`
	Body     *struct {
		Elements []element `json:"elements"`
	} `json:"body"`
}

// maxDepth bounds nesting (columns in panels in columns …).
const maxDepth = 8

// Parse reads a card. It fails only when raw is not a JSON object.
func Parse(raw json.RawMessage) (*Card, error) {
	var d document
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, errors.New("card: not a card JSON object: " + err.Error())
	}
	r := &renderer{}
	if d.Header != nil && d.Header.Title != nil {
		r.card.Title = strings.TrimSpace(d.Header.Title.Content)
	}
	elems := d.Elements
	if d.Body != nil {
		elems = append(elems, d.Body.Elements...)
	}
	r.elements(elems, 0)
	r.card.Markdown = strings.Join(r.md, "\n\n")
	r.card.Text = strings.Join(r.plain, "\n\n")
	return &r.card, nil
}

type renderer struct {
	card      Card
	md, plain []string
}

// block adds one paragraph, given as markdown.
func (r *renderer) block(md string) {
	md = cleanMarkdown(md)
	if strings.TrimSpace(md) == "" {
		return
	}
	r.md = append(r.md, md)
	r.plain = append(r.plain, Plain(md))
}

func (r *renderer) textBlock(t *text) {
	if t == nil {
		return
	}
	r.block(t.Content)
}

func (r *renderer) elements(es []element, depth int) {
	if depth > maxDepth {
		return
	}
	for _, e := range es {
		r.element(e, depth)
	}
}

func (r *renderer) element(e element, depth int) {
	switch e.Tag {
	case "div":
		r.textBlock(e.Text)
		var fields []string
		for _, f := range e.Fields {
			if f.Text != nil && strings.TrimSpace(f.Text.Content) != "" {
				fields = append(fields, f.Text.Content)
			}
		}
		if len(fields) > 0 {
			r.block(strings.Join(fields, "\n\n"))
		}
		if e.Extra != nil {
			r.element(*e.Extra, depth+1)
		}
	case "markdown", "lark_md":
		r.block(e.Content)
	case "plain_text":
		r.block(e.Content)
	case "hr":
		r.md = append(r.md, "---")
		r.plain = append(r.plain, "----------")
	case "note":
		var parts []string
		for _, n := range e.Elements {
			switch {
			case n.Tag == "img" && n.Alt != nil:
				parts = append(parts, n.Alt.Content)
			case n.Tag == "plain_text":
				parts = append(parts, n.Content)
			case n.Tag == "lark_md" || n.Tag == "markdown":
				parts = append(parts, n.Content)
			}
		}
		if s := strings.TrimSpace(strings.Join(parts, " ")); s != "" {
			r.block("> " + strings.ReplaceAll(s, "\n", "\n> "))
		}
	case "img", "image":
		if e.Alt != nil && strings.TrimSpace(e.Alt.Content) != "" {
			r.block(e.Alt.Content)
		}
	case "column_set":
		for _, c := range e.Columns {
			r.elements(c.Elements, depth+1)
		}
	case "column", "form", "interactive_container":
		r.elements(e.Elements, depth+1)
	case "collapsible_panel":
		if e.Header != nil && e.Header.Title != nil {
			r.textBlock(&text{Tag: "lark_md", Content: "**" + strings.TrimSpace(e.Header.Title.Content) + "**"})
		}
		r.elements(e.Elements, depth+1)
	case "action":
		for _, a := range e.Actions {
			r.element(a, depth+1)
		}
	case "button":
		r.button(e)
	}
}

// button keeps a button's web link.
func (r *renderer) button(e element) {
	link := e.URL
	if link == "" && e.MultiURL != nil {
		link = e.MultiURL.URL
	}
	for _, b := range e.Behaviors { // card 2.0
		if link == "" && b.Type == "open_url" {
			link = b.DefaultURL
		}
	}
	u, err := url.Parse(link)
	if link == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return
	}
	label := ""
	if e.Text != nil {
		label = strings.TrimSpace(e.Text.Content)
	}
	if label == "" {
		label = u.Host
	}
	r.card.Links = append(r.card.Links, Link{Text: label, URL: link})
}

var (
	// <at id=ou_x></at>, <at user_id="u">Name</at>, <at id=all></at>
	atTag = regexp.MustCompile(`<at\s+(?:id|user_id|open_id|email)\s*=\s*["']?([^"'\s>]*)["']?\s*>([^<]*)</at>`)
	// Feishu's inline styling tags, whose text is kept.
	styleTag = regexp.MustCompile(`</?(?:font|text_tag|local_datetime)\b[^>]*>`)
	mdLink   = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]+)\)`)
	emphasis = strings.NewReplacer("**", "", "~~", "", "__", "")
)

// cleanMarkdown turns Feishu's lark_md extensions into plain markdown:
// mentions become "@name" (or "@id", "@all"), styling tags go, their text
// stays.
func cleanMarkdown(s string) string {
	s = atTag.ReplaceAllStringFunc(s, func(m string) string {
		sub := atTag.FindStringSubmatch(m)
		if name := strings.TrimSpace(sub[2]); name != "" {
			return "@" + strings.TrimPrefix(name, "@")
		}
		return "@" + sub[1]
	})
	return strings.TrimSpace(styleTag.ReplaceAllString(s, ""))
}

// Plain returns markdown as plain text: links written "text (url)", bold
// and strike-through marks removed, headings' hashes dropped. Plain text
// in a card (plain_text) is taken as markdown too: robots render it so,
// and escaping it would show the backslashes where markdown is not
// rendered.
func Plain(md string) string {
	md = mdLink.ReplaceAllString(md, "$1 ($2)")
	md = emphasis.Replace(md)
	lines := strings.Split(md, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "#")
		if lines[i] != l {
			lines[i] = strings.TrimSpace(lines[i])
		}
	}
	return strings.Join(lines, "\n")
}
