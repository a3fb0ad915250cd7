package queue_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/store/storetest"
)

// request is one HTTP request as a peer saw it.
type request struct {
	method string
	url    *url.URL
	header http.Header
	body   []byte
}

// peer is an HTTP endpoint standing in for a vendor: it records every
// request and answers 200 with a fixed body.
type peer struct {
	srv    *httptest.Server
	answer string

	mu  sync.Mutex
	got []request
}

func newPeer(t *testing.T, answer string) *peer {
	t.Helper()
	p := &peer{answer: answer}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.got = append(p.got, request{method: r.Method, url: r.URL, header: r.Header.Clone(), body: body})
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, p.answer)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// requests returns what the peer received.
func (p *peer) requests() []request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.got)
}

// only returns the peer's only request.
func (p *peer) only(t *testing.T) request {
	t.Helper()
	got := p.requests()
	if len(got) != 1 {
		t.Fatalf("the peer received %d requests, want 1", len(got))
	}
	return got[0]
}

// smtpMail is one message the test SMTP server accepted.
type smtpMail struct {
	from  string
	rcpts []string
	data  []byte
}

// smtpServer is an emersion/go-smtp server in the test process.
type smtpServer struct {
	port int

	mu   sync.Mutex
	done []smtpMail
}

func newSMTPServer(t *testing.T) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	srv := smtp.NewServer(s)
	srv.Domain = "mx.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	s.port = l.Addr().(*net.TCPAddr).Port
	return s
}

// config is an email notifier's configuration for this server.
func (s *smtpServer) config() herald.NotifierConfig {
	return herald.NotifierConfig{Host: "127.0.0.1", Port: s.port, From: "Herald <herald@example.com>", TLS: "none"}
}

func (s *smtpServer) mails() []smtpMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.done)
}

// rcpts lists every recipient of every message, sorted.
func (s *smtpServer) rcpts() []string {
	var out []string
	for _, m := range s.mails() {
		out = append(out, m.rcpts...)
	}
	slices.Sort(out)
	return out
}

// NewSession makes smtpServer a go-smtp Backend.
func (s *smtpServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{s: s}, nil }

type smtpSession struct {
	s   *smtpServer
	cur smtpMail
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.cur.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.cur.rcpts = append(ss.cur.rcpts, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.cur.data = data
	ss.s.mu.Lock()
	ss.s.done = append(ss.s.done, ss.cur)
	ss.s.mu.Unlock()
	ss.cur = smtpMail{}
	return nil
}

func (ss *smtpSession) Reset()        { ss.cur = smtpMail{} }
func (ss *smtpSession) Logout() error { return nil }

// parseMail returns a message's decoded subject and its text and HTML
// parts, with line ends as "\n".
func parseMail(t *testing.T, data []byte) (subject, text, html string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(data)))
	must(t, err)
	subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	must(t, err)
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	must(t, err)
	if mt != "multipart/alternative" {
		t.Fatalf("Content-Type %s, want multipart/alternative", mt)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		must(t, err)
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(p)
		} else if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, p)
		}
		b, err := io.ReadAll(r)
		must(t, err)
		body := strings.ReplaceAll(string(b), "\r\n", "\n")
		switch pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt {
		case "text/plain":
			text = body
		case "text/html":
			html = body
		default:
			t.Errorf("unexpected part %s", pt)
		}
	}
	return subject, text, html
}

// texts are the default renderings of the test event, as a reader
// expects them.
type texts struct{ subject, text, markdown, html string }

func expected(locale, at string) texts {
	if locale == herald.LocaleZH {
		return texts{
			subject:  "构建失败: payments-build",
			text:     "构建失败：payments-build\n操作人：ann\nbranch：main\nbuild：#42\n时间：" + at + "\n",
			markdown: "### 构建失败\n**payments-build**\n\n- 操作人：ann\n- branch：main\n- build：#42\n- 时间：" + at + "\n",
			html:     "<h3>构建失败</h3><p><b>payments-build</b></p><ul><li>操作人：ann</li><li>branch：main</li><li>build：#42</li><li>时间：" + at + "</li></ul>",
		}
	}
	return texts{
		subject:  "Build failed: payments-build",
		text:     "Build failed: payments-build\nBy: ann\nbranch: main\nbuild: #42\nTime: " + at + "\n",
		markdown: "### Build failed\n**payments-build**\n\n- By: ann\n- branch: main\n- build: #42\n- Time: " + at + "\n",
		html:     "<h3>Build failed</h3><p><b>payments-build</b></p><ul><li>By: ann</li><li>branch: main</li><li>build: #42</li><li>Time: " + at + "</li></ul>",
	}
}

func hmacSHA256(key, msg []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// TestEngine_Channels posts one event to every channel, each with a peer
// that checks what a real vendor would: signatures, addresses, bodies.
func TestEngine_Channels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ann := b.user(t, &herald.User{Code: "ann", Name: "Ann Lee", Email: "ann@example.com", Mobile: "+8613800000001",
			DingTalkID: "ding-ann", WeComID: "wecom-ann", OpenID: "ou_ann"})
		li := b.user(t, &herald.User{Code: "li", Name: "李雷", Email: "li@example.com", Mobile: "+8613800000002", Locale: herald.LocaleZH})
		everyone := []herald.Recipient{userR("ann"), userR("li")}

		key := make([]byte, 24)
		_, _ = rand.Read(key)
		whsec := "whsec_" + base64.StdEncoding.EncodeToString(key)
		hookPeer, plainPeer := newPeer(t, ""), newPeer(t, "")
		dingPeer := newPeer(t, `{"errcode":0,"errmsg":"ok"}`)
		larkPeer := newPeer(t, `{"code":0,"msg":"success","data":{}}`)
		wecomPeer, wecomMDPeer := newPeer(t, `{"errcode":0,"errmsg":"ok"}`), newPeer(t, `{"errcode":0,"errmsg":"ok"}`)
		smsPeer := newPeer(t, `{"id":"sms-1"}`)
		smtpd := newSMTPServer(t)

		hook := b.notifier(t, herald.NotifierWebhook, "hook", herald.NotifierConfig{
			URL:         hookPeer.srv.URL + "/herald",
			HTTPHeaders: map[string]string{"X-Team": "payments"},
			MessageBody: `{"title":{{json .Title}},"source":{{json .Source}},"build":{{json (index .Payload "build")}},"fields":{{json .Fields}},"event":{{.EventID}}}`,
		}, whsec)
		plain := b.notifier(t, herald.NotifierWebhook, "plain", herald.NotifierConfig{URL: plainPeer.srv.URL}, "")
		ding := b.notifier(t, herald.NotifierDingTalk, "ding", herald.NotifierConfig{URL: dingPeer.srv.URL + "/robot/send?access_token=tok-ding"}, "SECding")
		lark := b.notifier(t, herald.NotifierLark, "lark", herald.NotifierConfig{URL: larkPeer.srv.URL + "/open-apis/bot/v2/hook/hook-1"}, "lark-secret")
		wecom := b.notifier(t, herald.NotifierWeCom, "wecom", herald.NotifierConfig{URL: wecomPeer.srv.URL + "/cgi-bin/webhook/send?key=key-1"}, "")
		wecomMD := b.notifier(t, herald.NotifierWeCom, "wecom-md", herald.NotifierConfig{URL: wecomMDPeer.srv.URL + "/cgi-bin/webhook/send?key=key-2"}, "")
		sms := b.notifier(t, herald.NotifierSMS, "sms", herald.NotifierConfig{
			URL:         smsPeer.srv.URL + "/v1/sms",
			HTTPHeaders: map[string]string{"Authorization": "Bearer gw-key"},
			MessageBody: `{"phone":{{json .To}},"message":{{json .Text}}}`,
		}, "")
		email := b.notifier(t, herald.NotifierEmail, "email", smtpd.config(), "")
		inbox := b.notifier(t, herald.NotifierInbox, "inbox", herald.NotifierConfig{}, "")

		hidden := []herald.BodyField{{Name: "secret_note", Shown: false}, {Name: "build", Shown: true}}
		var channels []herald.ChannelSettings
		for _, n := range []*herald.Notifier{hook, plain, ding, lark, wecom, sms, email, inbox} {
			c := on(n, "build.failed", everyone...)
			c.BodyFields = hidden
			channels = append(channels, c)
		}
		md := on(wecomMD, "build.failed") // no one to mention: markdown
		md.BodyFields = hidden
		b.deploy(t, append(channels, md)...)

		startEngine(t, db, testConfig())
		posted := b.post(t, &herald.Event{Type: "build.failed", Actor: "ann", Roles: map[string][]string{"creator": {"ann"}},
			Payload: json.RawMessage(`{"build":"#42","branch":"main","secret_note":"do not show"}`)})
		ev := settle(t, b, posted.ID)
		for _, d := range ev.Deliveries {
			if d.Status != herald.StatusDelivered {
				t.Errorf("%s delivery %d to %s: %s (%s)", d.Channel, d.ID, d.Target, d.Status, d.LastError)
			}
		}
		at := posted.CreatedAt.UTC().Format(time.DateTime) + " UTC"
		en, zh := expected(herald.LocaleEN, at), expected(herald.LocaleZH, posted.CreatedAt.UTC().Format("2006年01月02日 15:04:05")+" UTC")

		t.Run("Webhook", func(t *testing.T) {
			r := hookPeer.only(t)
			d := one(t, ev, hook)
			id, ts := r.header.Get("webhook-id"), r.header.Get("webhook-timestamp")
			if id != dlvID(d) {
				t.Errorf("webhook-id %q, want %q", id, dlvID(d))
			}
			want := "v1," + hmacSHA256(key, []byte(id+"."+ts+"."+string(r.body)))
			if sigs := strings.Fields(r.header.Get("webhook-signature")); !slices.Contains(sigs, want) {
				t.Errorf("webhook-signature %q does not verify with the notifier's secret", sigs)
			}
			if r.method != http.MethodPost || r.url.Path != "/herald" || r.header.Get("X-Team") != "payments" ||
				!strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("request %s %s, X-Team %q, Content-Type %q", r.method, r.url, r.header.Get("X-Team"), r.header.Get("Content-Type"))
			}
			wantBody := `{"title":"Build failed","source":"payments-build","build":"#42","fields":[{"Name":"branch","Value":"main"},{"Name":"build","Value":"#42"}],"event":` +
				strconv.FormatInt(ev.ID, 10) + `}`
			if string(r.body) != wantBody {
				t.Errorf("body\n%s\nwant\n%s", r.body, wantBody)
			}
		})

		t.Run("WebhookDefaultBody", func(t *testing.T) {
			r := plainPeer.only(t)
			if r.header.Get("webhook-id") != dlvID(one(t, ev, plain)) || r.header.Get("webhook-signature") != "" {
				t.Errorf("webhook-id %q, signature %q on an unsigned webhook", r.header.Get("webhook-id"), r.header.Get("webhook-signature"))
			}
			var got struct {
				EventID int64               `json:"event_id"`
				Type    string              `json:"type"`
				Title   string              `json:"title"`
				Text    string              `json:"text"`
				Actor   string              `json:"actor"`
				Roles   map[string][]string `json:"roles"`
				Source  map[string]string   `json:"source"`
			}
			must(t, json.Unmarshal(r.body, &got))
			if got.EventID != ev.ID || got.Type != "build.failed" || got.Title != "Build failed" || got.Text != en.text || got.Actor != "ann" ||
				!slices.Equal(got.Roles["creator"], []string{"ann"}) || got.Source["name"] != "payments-build" || got.Source["kind"] != herald.SourceBuildJob {
				t.Errorf("default body %s", r.body)
			}
		})

		t.Run("DingTalk", func(t *testing.T) {
			r := dingPeer.only(t)
			q := r.url.Query()
			if q.Get("access_token") != "tok-ding" || r.url.Path != "/robot/send" {
				t.Errorf("URL %s", r.url)
			}
			ts := q.Get("timestamp")
			if want := hmacSHA256([]byte("SECding"), []byte(ts+"\nSECding")); ts == "" || q.Get("sign") != want {
				t.Errorf("timestamp %q sign %q, want sign %q", ts, q.Get("sign"), want)
			}
			var got struct {
				MsgType  string `json:"msgtype"`
				Markdown struct {
					Title string `json:"title"`
					Text  string `json:"text"`
				} `json:"markdown"`
				At struct {
					AtMobiles []string `json:"atMobiles"`
					AtUserIDs []string `json:"atUserIds"`
					IsAtAll   bool     `json:"isAtAll"`
				} `json:"at"`
			}
			must(t, json.Unmarshal(r.body, &got))
			wantText := strings.TrimRight(en.markdown, "\n") + "\n\n@+8613800000002 @ding-ann"
			if got.MsgType != "markdown" || got.Markdown.Title != en.subject || got.Markdown.Text != wantText ||
				!slices.Equal(got.At.AtUserIDs, []string{"ding-ann"}) || !slices.Equal(got.At.AtMobiles, []string{li.Mobile}) || got.At.IsAtAll {
				t.Errorf("body %s\nwant markdown text %q, atUserIds [ding-ann], atMobiles [%s]", r.body, wantText, li.Mobile)
			}
		})

		t.Run("Lark", func(t *testing.T) {
			r := larkPeer.only(t)
			var got struct {
				Timestamp string `json:"timestamp"`
				Sign      string `json:"sign"`
				MsgType   string `json:"msg_type"`
				Content   struct {
					Post map[string]struct {
						Title   string `json:"title"`
						Content [][]struct {
							Tag    string `json:"tag"`
							Text   string `json:"text"`
							UserID string `json:"user_id"`
						} `json:"content"`
					} `json:"post"`
				} `json:"content"`
			}
			must(t, json.Unmarshal(r.body, &got))
			if want := hmacSHA256([]byte(got.Timestamp+"\nlark-secret"), nil); got.Timestamp == "" || got.Sign != want {
				t.Errorf("timestamp %q sign %q, want sign %q", got.Timestamp, got.Sign, want)
			}
			post, ok := got.Content.Post["zh_cn"]
			if got.MsgType != "post" || !ok || post.Title != en.subject {
				t.Fatalf("body %s", r.body)
			}
			var lines []string
			for _, p := range post.Content {
				var parts []string
				for _, e := range p {
					parts = append(parts, e.Tag+":"+e.Text+e.UserID)
				}
				lines = append(lines, strings.Join(parts, " "))
			}
			var want []string
			for _, l := range strings.Split(strings.TrimRight(en.text, "\n"), "\n") {
				want = append(want, "text:"+l)
			}
			want = append(want, "at:ou_ann")
			if !slices.Equal(lines, want) {
				t.Errorf("post paragraphs\n%q\nwant\n%q", lines, want)
			}
		})

		t.Run("WeCom", func(t *testing.T) {
			for _, tt := range []struct {
				p    *peer
				key  string
				want string
			}{
				{wecomPeer, "key-1", mustJSON(t, map[string]any{"msgtype": "text", "text": map[string]any{
					"content": en.subject + "\n" + en.text, "mentioned_list": []string{"wecom-ann"}, "mentioned_mobile_list": []string{li.Mobile}}})},
				{wecomMDPeer, "key-2", mustJSON(t, map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": en.markdown}})},
			} {
				r := tt.p.only(t)
				if r.url.Query().Get("key") != tt.key || r.url.Path != "/cgi-bin/webhook/send" {
					t.Errorf("URL %s, want key %s", r.url, tt.key)
				}
				if got := mustJSON(t, jsonValue(t, r.body)); got != tt.want {
					t.Errorf("body\n%s\nwant\n%s", got, tt.want)
				}
			}
		})

		t.Run("SMS", func(t *testing.T) {
			got := map[string]string{}
			for _, r := range smsPeer.requests() {
				if r.method != http.MethodPost || r.url.Path != "/v1/sms" || r.header.Get("Authorization") != "Bearer gw-key" {
					t.Errorf("request %s %s, Authorization %q", r.method, r.url, r.header.Get("Authorization"))
				}
				var body struct{ Phone, Message string }
				must(t, json.Unmarshal(r.body, &body))
				if _, dup := got[body.Phone]; dup {
					t.Errorf("two messages to %s", body.Phone)
				}
				got[body.Phone] = body.Message
			}
			want := map[string]string{ann.Mobile: en.text, li.Mobile: zh.text}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("texts by phone\n%q\nwant\n%q", got, want)
			}
			for _, d := range byNotifier(ev, sms) {
				if d.Target != ann.Mobile && d.Target != li.Mobile {
					t.Errorf("sms delivery target %q", d.Target)
				}
			}
		})

		t.Run("Email", func(t *testing.T) {
			mails := smtpd.mails()
			if len(mails) != 2 {
				t.Fatalf("%d mails, want 2", len(mails))
			}
			want := map[string]texts{"ann@example.com": en, "li@example.com": zh}
			for _, m := range mails {
				if m.from != "herald@example.com" || len(m.rcpts) != 1 {
					t.Errorf("MAIL FROM %q, RCPT TO %q", m.from, m.rcpts)
					continue
				}
				w, ok := want[m.rcpts[0]]
				if !ok {
					t.Errorf("mail to %s", m.rcpts[0])
					continue
				}
				delete(want, m.rcpts[0])
				subject, text, html := parseMail(t, m.data)
				if subject != w.subject || strings.TrimRight(text, "\n") != strings.TrimRight(w.text, "\n") || strings.TrimRight(html, "\n") != w.html {
					t.Errorf("mail to %s:\nsubject %q\ntext %q\nhtml %q\nwant\n%q\n%q\n%q", m.rcpts[0], subject, text, html, w.subject, w.text, w.html)
				}
			}
		})

		t.Run("Inbox", func(t *testing.T) {
			for _, tt := range []struct {
				u    *herald.User
				want texts
			}{{ann, en}, {li, zh}} {
				msgs, _, err := db.FindInbox(b.ctx, tt.u.ID, herald.InboxFilter{UnreadOnly: true}, herald.Page{})
				must(t, err)
				if len(msgs) != 1 {
					t.Fatalf("%s has %d inbox messages, want 1", tt.u.Code, len(msgs))
				}
				if m := msgs[0]; m.EventID != ev.ID || m.Title != tt.want.subject || m.Body != tt.want.text || m.ReadAt != nil {
					t.Errorf("%s's message: %q / %q, want %q / %q", tt.u.Code, m.Title, m.Body, tt.want.subject, tt.want.text)
				}
			}
			if ds := byNotifier(ev, inbox); len(ds) != 2 {
				t.Errorf("%d inbox deliveries, want 2", len(ds))
			}
		})
	})
}

// mustJSON is v as canonical JSON (object keys sorted).
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return string(b)
}

// jsonValue decodes a JSON document into generic values.
func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	must(t, json.Unmarshal(b, &v))
	return v
}
