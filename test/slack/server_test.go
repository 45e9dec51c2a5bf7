package slack_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slack-go/slack"

	slacktest "github.com/bluegreen-dev/bluegreen/test/slack"
)

func TestServerWithSlackGo(t *testing.T) {
	srv := slacktest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	api := slack.New(slacktest.Token, slack.OptionAPIURL(srv.APIURL()))

	if _, err := api.AuthTestContext(ctx); err != nil {
		t.Fatalf("auth.test: %v", err)
	}
	if _, err := slack.New("xoxb-wrong", slack.OptionAPIURL(srv.APIURL())).AuthTestContext(ctx); err == nil || err.Error() != "invalid_auth" {
		t.Errorf("auth.test with a wrong token: %v, want invalid_auth", err)
	}

	_, ts, err := api.PostMessageContext(ctx, "#deploys", slack.MsgOptionText("hello", false),
		slack.MsgOptionBlocks(slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*hi*", false, false), nil, nil)))
	if err != nil || ts == "" {
		t.Fatalf("chat.postMessage: ts %q, %v", ts, err)
	}
	if _, _, err := api.PostMessageContext(ctx, "deploys", slack.MsgOptionText("reply", false), slack.MsgOptionTS(ts)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "deploys", ts, slack.MsgOptionText("edited", false)); err != nil {
		t.Fatal(err)
	}

	srv.RateLimit(1, 3*time.Second)
	_, _, err = api.PostMessageContext(ctx, "deploys", slack.MsgOptionText("limited", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second {
		t.Errorf("rate limited: %v, want a RateLimitedError with Retry-After 3s", err)
	}
	srv.Fail(1)
	var sc slack.StatusCodeError
	if _, _, err := api.PostMessageContext(ctx, "deploys", slack.MsgOptionText("x", false)); !errors.As(err, &sc) || sc.Code != 500 {
		t.Errorf("failure: %v, want HTTP 500", err)
	}
	srv.SetChannels("deploys")
	if _, _, err := api.PostMessageContext(ctx, "elsewhere", slack.MsgOptionText("x", false)); err == nil || err.Error() != "channel_not_found" {
		t.Errorf("unknown channel: %v", err)
	}
	if err := slack.PostWebhookContext(ctx, srv.WebhookURL(), &slack.WebhookMessage{Channel: "deploys", Text: "via webhook"}); err != nil {
		t.Fatal(err)
	}

	got := srv.Messages()
	want := []struct{ method, text, thread string }{
		{"chat.postMessage", "hello", ""}, {"chat.postMessage", "reply", ts}, {"chat.update", "edited", ""}, {"webhook", "via webhook", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Method != w.method || got[i].Text != w.text || got[i].ThreadTS != w.thread || got[i].Channel != "deploys" {
			t.Errorf("message %d = %+v, want %+v", i, got[i], w)
		}
	}
	if len(got[0].Blocks) == 0 {
		t.Error("blocks not recorded")
	}
	if srv.Requests() != 9 {
		t.Errorf("%d requests, want 9", srv.Requests())
	}
}
