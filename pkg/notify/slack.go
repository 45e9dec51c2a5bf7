package notify

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Sender delivers a rendered message to a channel. threadTS, when set, makes it a reply in
// that thread. It returns the ts of the message posted ("" through a webhook).
type Sender interface {
	Send(ctx context.Context, channel string, msg Message, threadTS string) (ts string, err error)
}

// slackSender delivers through slack-go: chat.postMessage with a bot token, or an incoming
// webhook.
type slackSender struct {
	cfg     SlackConfig
	api     *slack.Client
	http    *http.Client
	secrets []string
}

func newSlackSender(cfg SlackConfig, httpClient *http.Client) *slackSender {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	s := &slackSender{cfg: cfg, http: httpClient}
	for _, v := range []string{cfg.Token, cfg.WebhookURL} {
		if v != "" {
			s.secrets = append(s.secrets, v)
		}
	}
	if cfg.Token != "" {
		opts := []slack.Option{slack.OptionHTTPClient(httpClient)}
		if cfg.APIURL != "" {
			opts = append(opts, slack.OptionAPIURL(cfg.APIURL))
		}
		s.api = slack.New(cfg.Token, opts...)
	}
	return s
}

func (s *slackSender) Send(ctx context.Context, channel string, msg Message, threadTS string) (string, error) {
	if s.api == nil {
		wm := &slack.WebhookMessage{Channel: channel, Text: msg.Text, Username: s.cfg.Username}
		if len(msg.Blocks) > 0 {
			wm.Blocks = &slack.Blocks{BlockSet: msg.Blocks}
		}
		if strings.HasPrefix(s.cfg.Icon, ":") {
			wm.IconEmoji = s.cfg.Icon
		} else {
			wm.IconURL = s.cfg.Icon
		}
		err := slack.PostWebhookCustomHTTPContext(ctx, s.cfg.WebhookURL, s.http, wm)
		return "", classify(err, s.secrets)
	}
	opts := []slack.MsgOption{slack.MsgOptionText(msg.Text, false)}
	if len(msg.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(msg.Blocks...))
	}
	if s.cfg.Username != "" {
		opts = append(opts, slack.MsgOptionUsername(s.cfg.Username))
	}
	switch {
	case strings.HasPrefix(s.cfg.Icon, ":"):
		opts = append(opts, slack.MsgOptionIconEmoji(s.cfg.Icon))
	case s.cfg.Icon != "":
		opts = append(opts, slack.MsgOptionIconURL(s.cfg.Icon))
	}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
		if msg.Broadcast {
			opts = append(opts, slack.MsgOptionBroadcast())
		}
	}
	_, ts, err := s.api.PostMessageContext(ctx, channel, opts...)
	return ts, classify(err, s.secrets)
}

// DeliveryError is a failed delivery: whether a retry can help, and when Slack allows it.
type DeliveryError struct {
	msg        string
	Permanent  bool
	RetryAfter time.Duration
}

func (e *DeliveryError) Error() string { return e.msg }

// retryableSlackErrors are Web API errors that a later attempt can overcome.
var retryableSlackErrors = map[string]bool{
	"ratelimited": true, "internal_error": true, "fatal_error": true, "service_unavailable": true,
	"request_timeout": true, "team_added_to_org": true,
}

// classify turns a slack-go error into a DeliveryError whose text holds no secret.
func classify(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	de := &DeliveryError{msg: redact(err.Error(), secrets)}
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &rl):
		de.RetryAfter = rl.RetryAfter
	case errors.As(err, &sc):
		de.Permanent = sc.Code >= 400 && sc.Code < 500 && sc.Code != http.StatusTooManyRequests && sc.Code != http.StatusRequestTimeout
	case errors.As(err, &se):
		de.Permanent = !retryableSlackErrors[se.Err]
	case errors.Is(err, context.Canceled):
	}
	return de
}

// redact removes secret values from s, also in their URL-escaped forms.
func redact(s string, secrets []string) string {
	for _, v := range secrets {
		if v == "" {
			continue
		}
		s = strings.ReplaceAll(s, v, "[redacted]")
		if i := strings.Index(v, "://"); i >= 0 {
			// A webhook URL's path is its secret: an error may show it without the scheme.
			s = strings.ReplaceAll(s, v[i+3:], "[redacted]")
		}
	}
	return s
}

// permanentAuthErrors mean the configuration is wrong, not the message.
var permanentAuthErrors = []string{"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_service", "invalid_token"}

func isAuthError(err error) bool {
	for _, e := range permanentAuthErrors {
		if strings.Contains(err.Error(), e) {
			return true
		}
	}
	return false
}
