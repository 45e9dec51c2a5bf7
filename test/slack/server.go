// Package slack is a local stand-in for the Slack Web API (auth.test, chat.postMessage,
// chat.update) and for incoming webhooks. It records what it receives, and can answer
// ratelimited with a Retry-After or fail, so that tests and the demo can point slack-go
// at it with slack.OptionAPIURL (or the ConfigMap's apiURL).
package slack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Token is the bot token the server accepts unless Server.Token is changed.
const Token = "xoxb-test-0000-secret"

// Message is a message the server accepted.
type Message struct {
	// Method is chat.postMessage, chat.update or webhook.
	Method   string
	Channel  string
	Text     string
	Blocks   json.RawMessage
	ThreadTS string
	// TS is the timestamp the server gave the message (chat.update: the one updated).
	TS             string
	ReplyBroadcast bool
	Username       string
	IconEmoji      string
	IconURL        string
	At             time.Time
}

// Server is the stand-in. Its knobs are safe to change while it serves.
type Server struct {
	srv *httptest.Server

	mu         sync.Mutex
	token      string
	channels   []string
	messages   []Message
	requests   int
	rateLimits int
	retryAfter int
	failures   int
	down       bool
	latency    time.Duration
	seq        int
}

// NewServer starts a server; Close stops it.
func NewServer() *Server {
	s := &Server{token: Token}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/auth.test", s.api(s.authTest))
	mux.HandleFunc("/api/chat.postMessage", s.api(s.post("chat.postMessage")))
	mux.HandleFunc("/api/chat.update", s.api(s.post("chat.update")))
	mux.HandleFunc("/webhook/", s.webhook)
	s.srv = httptest.NewServer(mux)
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the Web API base URL for slack.OptionAPIURL or the ConfigMap's apiURL.
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// WebhookURL is an incoming webhook URL the server accepts.
func (s *Server) WebhookURL() string { return s.srv.URL + "/webhook/T000/B000/webhook-secret" }

// SetToken changes the accepted bot token.
func (s *Server) SetToken(token string) { s.mu.Lock(); s.token = token; s.mu.Unlock() }

// SetChannels makes chat.postMessage answer channel_not_found for any other channel; none
// (the default) accepts every channel.
func (s *Server) SetChannels(channels ...string) {
	s.mu.Lock()
	s.channels = channels
	s.mu.Unlock()
}

// RateLimit answers the next n requests with HTTP 429, error ratelimited and Retry-After.
func (s *Server) RateLimit(n int, retryAfter time.Duration) {
	s.mu.Lock()
	s.rateLimits, s.retryAfter = n, int(retryAfter.Round(time.Second)/time.Second)
	s.mu.Unlock()
}

// Fail answers the next n requests with HTTP 500.
func (s *Server) Fail(n int) { s.mu.Lock(); s.failures = n; s.mu.Unlock() }

// SetDown makes every request fail with HTTP 503 until SetDown(false): an outage.
func (s *Server) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// SetLatency makes every request wait d before it is answered: a slow Slack.
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// Messages returns the messages accepted so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Requests is the number of requests received, failed ones included.
func (s *Server) Requests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.requests }

// Reset forgets the messages and requests and clears the knobs.
func (s *Server) Reset() {
	s.mu.Lock()
	s.messages, s.requests, s.rateLimits, s.failures, s.down, s.latency = nil, 0, 0, 0, false, 0
	s.mu.Unlock()
}

// interfere answers the request with a failure a knob asks for; true if it did.
func (s *Server) interfere(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency): // simulated slowness
		case <-r.Context().Done():
			return true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	switch {
	case s.down:
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
	case s.rateLimits > 0:
		s.rateLimits--
		w.Header().Set("Retry-After", fmt.Sprint(s.retryAfter))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
	case s.failures > 0:
		s.failures--
		http.Error(w, "internal error", http.StatusInternalServerError)
	default:
		return false
	}
	return true
}

type apiHandler func(token string, form url.Values) (map[string]any, string)

// api handles a Web API method: form or JSON body, token in the form or a Bearer header.
func (s *Server) api(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.interfere(w, r) {
			return
		}
		form := url.Values{}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			var body map[string]any
			_ = json.NewDecoder(r.Body).Decode(&body)
			for k, v := range body {
				if str, ok := v.(string); ok {
					form.Set(k, str)
				} else {
					b, _ := json.Marshal(v)
					form.Set(k, string(b))
				}
			}
		} else if err := r.ParseForm(); err == nil {
			form = r.PostForm
		}
		token := form.Get("token")
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			token = bearer
		}
		w.Header().Set("Content-Type", "application/json")
		resp, errCode := h(token, form)
		if errCode != "" {
			resp = map[string]any{"ok": false, "error": errCode}
		} else {
			resp["ok"] = true
		}
		_ = json.NewEncoder(w).Encode(resp)
	}
}

func (s *Server) authTest(token string, _ url.Values) (map[string]any, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token == "" {
		return nil, "not_authed"
	}
	if token != s.token {
		return nil, "invalid_auth"
	}
	return map[string]any{"url": s.srv.URL, "team": "test", "user": "bluegreen", "team_id": "T000", "user_id": "U000", "bot_id": "B000"}, ""
}

func (s *Server) post(method string) apiHandler {
	return func(token string, form url.Values) (map[string]any, string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case token == "":
			return nil, "not_authed"
		case token != s.token:
			return nil, "invalid_auth"
		}
		channel := strings.TrimPrefix(form.Get("channel"), "#")
		if channel == "" || (len(s.channels) > 0 && !slices.Contains(s.channels, channel)) {
			return nil, "channel_not_found"
		}
		if form.Get("text") == "" && form.Get("blocks") == "" {
			return nil, "no_text"
		}
		m := Message{
			Method: method, Channel: channel, Text: form.Get("text"), ThreadTS: form.Get("thread_ts"),
			ReplyBroadcast: form.Get("reply_broadcast") == "true", Username: form.Get("username"),
			IconEmoji: form.Get("icon_emoji"), IconURL: form.Get("icon_url"), At: time.Now(),
		}
		if b := form.Get("blocks"); b != "" {
			m.Blocks = json.RawMessage(b)
		}
		if method == "chat.update" {
			m.TS = form.Get("ts")
			if m.TS == "" {
				return nil, "message_not_found"
			}
		} else {
			s.seq++
			m.TS = fmt.Sprintf("1700000000.%06d", s.seq)
		}
		s.messages = append(s.messages, m)
		return map[string]any{"channel": channel, "ts": m.TS, "message": map[string]any{"text": m.Text, "ts": m.TS, "thread_ts": m.ThreadTS}}, ""
	}
}

func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	if s.interfere(w, r) {
		return
	}
	if r.URL.Path != "/webhook/T000/B000/webhook-secret" {
		http.Error(w, "no_service", http.StatusNotFound)
		return
	}
	var body struct {
		Channel   string          `json:"channel"`
		Text      string          `json:"text"`
		Blocks    json.RawMessage `json:"blocks"`
		ThreadTS  string          `json:"thread_ts"`
		Username  string          `json:"username"`
		IconEmoji string          `json:"icon_emoji"`
		IconURL   string          `json:"icon_url"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || (body.Text == "" && len(body.Blocks) == 0) {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.messages = append(s.messages, Message{Method: "webhook", Channel: strings.TrimPrefix(body.Channel, "#"), Text: body.Text,
		Blocks: body.Blocks, ThreadTS: body.ThreadTS, Username: body.Username, IconEmoji: body.IconEmoji, IconURL: body.IconURL, At: time.Now()})
	s.mu.Unlock()
	_, _ = io.WriteString(w, "ok")
}
