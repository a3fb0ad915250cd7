package console

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// The English catalogue is every message the console passes through the
// translation: {{T "…"}} in the templates (.T, $.T, $v.T), and in Go the
// messages given to translate, redirect (flash), page (title), v.T and
// the label maps (any map variable named …Labels or …Prefixes, and the
// flashes). EnglishCatalogue finds them in the sources, so a page added
// later is covered without listing it here.

var reTemplateT = regexp.MustCompile(`\bT "((?:[^"\\]|\\.)*)"`)

// templateMessages returns the messages of the templates' T calls, by
// template.
func templateMessages(t testing.TB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		raw, err := fs.ReadFile(templateFS, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range reTemplateT.FindAllStringSubmatch(string(raw), -1) {
			msg, err := strconv.Unquote(`"` + m[1] + `"`)
			if err != nil {
				t.Fatalf("%s: %q: %v", n, m[1], err)
			}
			out[n] = append(out[n], msg)
		}
	}
	return out
}

// goMessages returns the messages the console's Go code translates, by
// file and line.
func goMessages(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	lit := func(e ast.Expr) {
		if b, ok := e.(*ast.BasicLit); ok && b.Kind == token.STRING {
			if s, err := strconv.Unquote(b.Value); err == nil && s != "" {
				out[s] = fset.Position(b.Pos()).String()
			}
		}
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasPrefix(f, "i18n") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				}
				arg := map[string]int{"translate": 1, "redirect": 3, "page": 2, "T": 0}
				if i, ok := arg[name]; ok && i < len(n.Args) {
					lit(n.Args[i])
				}
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if i >= len(n.Values) {
						continue
					}
					cl, ok := n.Values[i].(*ast.CompositeLit)
					if !ok {
						continue
					}
					labels := strings.HasSuffix(id.Name, "Labels") || strings.HasSuffix(id.Name, "Prefixes")
					if !labels && id.Name != "flashes" {
						continue
					}
					for _, el := range cl.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if labels {
								lit(kv.Value)
							} else {
								lit(kv.Key)
							}
						}
					}
				}
			}
			return true
		})
	}
	return out
}

// EnglishCatalogue is every English message of the console.
func EnglishCatalogue(t testing.TB) map[string]bool {
	out := map[string]bool{}
	for _, msgs := range templateMessages(t) {
		for _, m := range msgs {
			out[m] = true
		}
	}
	for m := range goMessages(t) {
		out[m] = true
	}
	for m := range catalogue[langZH] {
		out[m] = true
	}
	return out
}

// TestCatalogue_EveryMessageHasChinese: every message of the templates
// and of the Go code has a Chinese entry.
func TestCatalogue_EveryMessageHasChinese(t *testing.T) {
	t.Parallel()
	for file, msgs := range templateMessages(t) {
		for _, m := range msgs {
			if _, ok := catalogue[langZH][m]; !ok {
				t.Errorf("%s: {{T %q}} has no Chinese entry", file, m)
			}
		}
	}
	for m, pos := range goMessages(t) {
		if _, ok := catalogue[langZH][m]; !ok {
			t.Errorf("%s: %q has no Chinese entry", pos, m)
		}
	}
}

// literalWords are the words a template may show untranslated: names and
// abbreviations that read the same in Chinese.
var literalWords = []string{"Herald", "English", "ID", "UTC", "URL", "JSON", "SMTP", "TLS", "PEM", "SMS", "HTTP", "API", "IM", "CSV",
	"GET", "POST", "PUT", "PATCH", "BEGIN", "CERTIFICATE", "EN"}

var (
	// An action runs to the first }} outside its quoted strings (a
	// message may show template syntax, as the SMS body's help does).
	reAction = regexp.MustCompile(`(?s)\{\{(?:[^"}]|"(?:[^"\\]|\\.)*"|\}[^}])*?\}\}`)
	reWord   = regexp.MustCompile(`[A-Za-z][A-Za-z'’]*(?:-[A-Za-z]+)*`)
)

// templateLiterals returns the English words the templates show outside
// the translation: text between tags and the text of placeholder, title
// and aria-label attributes, by template.
func templateLiterals(t testing.TB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		raw, err := fs.ReadFile(templateFS, n)
		if err != nil {
			t.Fatal(err)
		}
		src := reAction.ReplaceAllString(string(raw), "\x00")
		check := func(text string) {
			for _, chunk := range strings.Split(text, "\x00") {
				for _, w := range reWord.FindAllString(chunk, -1) {
					if !slices.Contains(literalWords, w) {
						out[n] = append(out[n], strings.TrimSpace(chunk))
						break
					}
				}
			}
		}
		z := html.NewTokenizer(strings.NewReader(src))
		skip := 0 // inside script or style
		code := 0 // inside code, pre or textarea: examples, not words
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				break
			}
			tok := z.Token()
			switch tt {
			case html.StartTagToken, html.SelfClosingTagToken:
				if tok.Data == "script" || tok.Data == "style" {
					skip++
				}
				if tt == html.StartTagToken && isExample(tok.Data) {
					code++
				}
				for _, a := range tok.Attr {
					switch {
					case a.Key == "placeholder" && exampleValue(a.Val):
					case a.Key == "placeholder" || a.Key == "title" || a.Key == "aria-label":
						check(a.Val)
					}
				}
			case html.EndTagToken:
				if (tok.Data == "script" || tok.Data == "style") && skip > 0 {
					skip--
				}
				if isExample(tok.Data) && code > 0 {
					code--
				}
			case html.TextToken:
				if skip == 0 && code == 0 {
					check(tok.Data)
				}
			}
		}
	}
	return out
}

// isExample says whether an element holds examples of what to type
// (addresses, JSON, CSV), which read the same in every language.
func isExample(tag string) bool { return tag == "code" || tag == "pre" || tag == "textarea" }

// exampleValue says whether a placeholder is an example value (a code, an
// address, a header) rather than words: one word, or text with @, / or :.
func exampleValue(v string) bool {
	return !strings.Contains(strings.TrimSpace(v), " ") || strings.ContainsAny(v, "@/:")
}

// TestTemplates_NoEnglishLiterals: what a page shows in words goes
// through the catalogue; only the names of literalWords stand as they are.
func TestTemplates_NoEnglishLiterals(t *testing.T) {
	t.Parallel()
	for file, lits := range templateLiterals(t) {
		for _, l := range lits {
			t.Errorf("%s: %q is shown untranslated: put it through {{.T …}} with a Chinese entry", file, l)
		}
	}
}

// ChineseCatalogue is the Chinese catalogue, for the page walk.
func ChineseCatalogue() map[string]string { return catalogue[langZH] }
